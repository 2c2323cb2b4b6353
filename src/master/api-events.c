/* GET /v1/events: the audit trail, from the state database. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "master/api.h"
#include "master/db.h"
#include "master/master.h"

#define API_EVENTS_LIMIT 1000

/* A number from the query string, or def; -1 if it is not a number. */
static long long
api_events_number(struct api_request *req, const char *key, long long def)
{
	const char *s = api_query(req, key);
	char *end;
	long long v;

	if (s == NULL)
		return def;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0)
		return -1;
	return v;
}

int
api_events_list(struct api_request *req, json_t **reply)
{
	long long after = api_events_number(req, "after", 0);
	long long since = api_events_number(req, "since", 0);
	long long limit = api_events_number(req, "limit", API_EVENTS_LIMIT);

	if (after < 0 || since < 0 || limit < 0)
		return api_error(reply, 400, "'after' (an event id), 'since' "
		    "(ms since the epoch) and 'limit' must be numbers");
	if (limit == 0 || limit > API_EVENTS_LIMIT)
		limit = API_EVENTS_LIMIT;
	*reply = db_events(req->master->db, after, since, api_query(req, "node"),
	    api_query(req, "app"), (int)limit);
	return 200;
}
