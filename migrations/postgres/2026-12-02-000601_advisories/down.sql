DROP TABLE advisories;
