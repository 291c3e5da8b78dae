DROP INDEX jobs_lane;
