DROP TABLE trusted_exchanges;
DROP TABLE trusted_publishers;
