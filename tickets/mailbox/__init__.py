"""Support email both ways: a partner's support mailbox read over IMAP into tickets, and ticket emails
that thread in mail clients and come back to the mailbox when answered.

`models` (the mailbox, each message read, the Message-IDs the portal sent), `imap` (the client),
`parsing` (headers, the reply without quotes and signatures, attachments, auto-replies), `threading`
(headers of outgoing ticket emails), `services` (reading, routing, the quarantine), `selectors`,
`forms` and `views` (the mailbox settings page and the quarantine list).
"""
