"""Provisioning: the site registry of devices, their MQTT credentials, the broker's password and
ACL files, and TLS certificates for production brokers."""
