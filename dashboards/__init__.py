"""The pages that compose several apps: the staff dashboard and the customer's self-service home."""
