"""The durable event inbox: nothing Slack was told we received is lost."""
