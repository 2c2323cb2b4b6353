#include "common/keys.h"

#include <czmq.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmem.h"

int
keys_load_or_create(const char *path, struct keys *keys, char **cause)
{
	zcert_t *cert;
	mode_t old;

	if (access(path, F_OK) == 0) {
		if ((cert = zcert_load(path)) == NULL) {
			*cause = xasprintf("cannot read keypair %s", path);
			return -1;
		}
		if (strlen(zcert_public_txt(cert)) != 40 ||
		    strlen(zcert_secret_txt(cert)) != 40 ||
		    strcmp(zcert_secret_txt(cert), "0000000000000000000000000000000000000000") == 0) {
			zcert_destroy(&cert);
			*cause = xasprintf("keypair %s holds no secret key", path);
			return -1;
		}
	} else {
		cert = zcert_new();
		zcert_set_meta(cert, "created-by", "drover");
		/* The secret key must never be readable by others, not even briefly. */
		old = umask(077);
		if (zcert_save_secret(cert, path) == -1) {
			umask(old);
			zcert_destroy(&cert);
			*cause = xasprintf("cannot write keypair %s: %s", path,
			    strerror(errno));
			return -1;
		}
		umask(old);
		chmod(path, 0600);
		log_info("created keypair %s", path);
	}
	memcpy(keys->public_z85, zcert_public_txt(cert), 41);
	memcpy(keys->secret_z85, zcert_secret_txt(cert), 41);
	zcert_destroy(&cert);
	return 0;
}
