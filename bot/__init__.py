"""kefu: a Telegram assistant for an online shop's customer-service team."""
