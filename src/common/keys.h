/* CURVE keypairs kept on disk (CZMQ's zcert format, mode 0600). */
#ifndef DROVER_KEYS_H
#define DROVER_KEYS_H

struct keys {
	char public_z85[41];
	char secret_z85[41];
};

/*
 * Load the keypair at path, or create and save a new one when the file does
 * not exist. Returns 0, or -1 with *cause (caller frees) when the file exists
 * but cannot be read or holds no keys.
 */
int keys_load_or_create(const char *path, struct keys *keys, char **cause);

#endif
