DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE subscription_events;
DROP TABLE subscriptions;
