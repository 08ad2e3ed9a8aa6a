"""The knowledge base: a partner's articles in English and Russian (Markdown, rendered and sanitised),
published to its customers, searched, and suggested while a customer writes a new ticket."""
