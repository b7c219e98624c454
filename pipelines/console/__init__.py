"""The fund analysts' console: pages over the register, served in Airflow or written static."""
