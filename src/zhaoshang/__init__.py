"""County investment-attraction (招商引资) data warehouse.

The package holds every stage of the nightly pipeline as plain functions; the Airflow DAG in
``dags/`` only wires them together. Nothing here imports Airflow.
"""
