# The Airflow image of the compose stack: the pinned Airflow plus this project's requirements.
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt constraints.txt /tmp/
RUN pip install --no-cache-dir -r /tmp/requirements.txt -c /tmp/constraints.txt
