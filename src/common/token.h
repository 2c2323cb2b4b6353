/*
 * Join tokens: what a worker needs to join a master. A token names the
 * master's CURVE public key and carries the join secret:
 *
 *     drv1.<master public key, 64 hex digits>.<secret>
 *
 * so that a worker trusts exactly the master named in its token (as
 * kubeadm's token carries the CA hash). Hex rather than Z85 because Z85 uses
 * characters the shell interprets (&, <, $), and tokens are pasted into shells.
 */
#ifndef DROVER_TOKEN_H
#define DROVER_TOKEN_H

#define TOKEN_PREFIX "drv1."
#define TOKEN_KEY_HEX 64
#define TOKEN_SECRET_MIN 8
#define TOKEN_SECRET_MAX 128

/* Returns 0 if s may be a join secret, or -1 with *cause (caller frees). */
int token_check_secret(const char *s, char **cause);

/* Build a token from a Z85 public key (40 characters) and a secret. */
char *token_format(const char *key_z85, const char *secret);

/*
 * Parse a token into the master's public key (Z85, 41 bytes with NUL) and
 * the secret (allocated). Returns 0, or -1 with *cause (caller frees).
 */
int token_parse(const char *token, char key_z85[41], char **secret,
    char **cause);

/*
 * A name for a bearer token that is safe to record (events, logs): a label
 * and the first 8 hex digits of the token's BLAKE2b hash ("admin-1f2e3d4c").
 * Caller frees.
 */
char *token_id(const char *label, const char *token);

#endif
