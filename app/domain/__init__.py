"""Pure rules of the law, with no database or web code: the case state machine and
who is entitled to which support. Services apply them; tests pin them down."""
