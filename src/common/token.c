#include "common/token.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "common/xmem.h"

int
token_check_secret(const char *s, char **cause)
{
	size_t len = strlen(s);

	if (len < TOKEN_SECRET_MIN || len > TOKEN_SECRET_MAX) {
		*cause = xasprintf("join secret must be %d to %d characters long",
		    TOKEN_SECRET_MIN, TOKEN_SECRET_MAX);
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
			*cause = xstrdup("join secret may only hold letters, "
			    "digits, '-' and '_'");
			return -1;
		}
	}
	return 0;
}

char *
token_format(const char *key_z85, const char *secret)
{
	uint8_t key[32];
	char hex[TOKEN_KEY_HEX + 1];

	if (strlen(key_z85) != 40 || zmq_z85_decode(key, key_z85) == NULL)
		fatalx("token_format: bad public key");
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	return xasprintf("%s%s.%s", TOKEN_PREFIX, hex, secret);
}

int
token_parse(const char *token, char key_z85[41], char **secret, char **cause)
{
	size_t plen = strlen(TOKEN_PREFIX);
	uint8_t key[32];
	size_t keylen;
	const char *p;

	*secret = NULL;
	if (strncmp(token, TOKEN_PREFIX, plen) != 0) {
		*cause = xasprintf("token does not start with '%s' (copy the whole "
		    "token from the master's join.token)", TOKEN_PREFIX);
		return -1;
	}
	p = token + plen;
	if (strlen(p) < TOKEN_KEY_HEX + 1 || p[TOKEN_KEY_HEX] != '.') {
		*cause = xstrdup("token is cut short: expected "
		    "drv1.<64 hex digits of the master key>.<secret>");
		return -1;
	}
	if (sodium_hex2bin(key, sizeof key, p, TOKEN_KEY_HEX, NULL, &keylen,
		NULL) != 0 || keylen != sizeof key) {
		*cause = xstrdup("token's master key is not 64 hex digits");
		return -1;
	}
	if (token_check_secret(p + TOKEN_KEY_HEX + 1, cause) == -1)
		return -1;
	zmq_z85_encode(key_z85, key, sizeof key);
	*secret = xstrdup(p + TOKEN_KEY_HEX + 1);
	return 0;
}

char *
token_id(const char *label, const char *token)
{
	unsigned char hash[crypto_generichash_BYTES];
	char hex[9];

	crypto_generichash(hash, sizeof hash, (const unsigned char *)token,
	    strlen(token), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, hash, 4);
	return xasprintf("%s-%s", label, hex);
}
