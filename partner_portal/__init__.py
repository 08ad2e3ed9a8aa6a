"""The core every app builds on: users, partners, customers and tenancy, audit, clock, money, the API kit."""
