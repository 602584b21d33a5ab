/* uuid: request ids. */
#ifndef QG_UUID_H
#define QG_UUID_H

#define QG_UUID_LEN 36

/* Writes a random (version 4, RFC 9562) UUID in lowercase 8-4-4-4-12 form
 * and a NUL into out. Uses the kernel's random source through a per-thread
 * buffer, so it is cheap and any thread may call it. */
void qg_uuid_v4(char out[QG_UUID_LEN + 1]);

#endif
