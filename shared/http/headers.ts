// The response and request headers of the HTTP contract both versions answer with, named once: the apps set
// them, the load client and the checker's tools read them.

/** What every write answers with when reads go to a replica, and what a client sends back to read its writes. */
export const CONSISTENCY_TOKEN_HEADER = 'X-Consistency-Token';
/** Which server answered a read: replica or primary (only when a replica is configured). */
export const READ_FROM_HEADER = 'X-Read-From';
