"""Canned replies: a partner's ready answers that agents insert into a ticket's reply, in the customer's
language, with a few variables filled in for the ticket."""
