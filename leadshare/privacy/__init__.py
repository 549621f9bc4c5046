"""Customer privacy over time (PIPL): personal data beside the chain, who saw a contact, how long
it is kept, and a customer's own requests."""
