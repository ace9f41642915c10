"""APScheduler set-up, leader election across instances, and the jobs."""
