/* GET /v1/apps/ID/usage: an app's resource history, from the state database. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "master/api.h"
#include "master/app.h"
#include "master/db.h"
#include "master/master.h"

/* The default span, and the most points one answer carries. */
#define API_HISTORY_SINCE_MS 3600000LL
#define API_HISTORY_POINTS_MAX 20000
/* Steps chosen when none is asked for: the finest giving <= 1000 points. */
#define API_HISTORY_POINTS_DEFAULT 1000

static const int64_t api_history_steps[] = {
	1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000,
	900000, 1800000, 3600000, 7200000, 21600000, 43200000, 86400000,
};

int
api_apps_usage(struct api_request *req, json_t **reply)
{
	struct app_record *a = app_lookup(req->master->apps, req->params[0]);
	const char *step_s = api_query(req, "step");
	int64_t now = util_wall_ms(), since, step = 0, span;

	if (a == NULL)
		return api_error(reply, 404, "no such app: %s", req->params[0]);
	since = api_query(req, "since") == NULL ? now - API_HISTORY_SINCE_MS :
	    util_parse_since_ms(api_query(req, "since"), now);
	if (since == -1)
		return api_error(reply, 400, "'since' takes a duration such as "
		    "30s, 15m, 1h or 7d, or milliseconds since the epoch");
	span = now > since ? now - since : 1;
	if (step_s != NULL && ((step = util_parse_duration_ms(step_s)) < 1000 ||
	    step > 86400000))
		return api_error(reply, 400, "'step' takes a duration from 1s to "
		    "1d, such as 10s or 1m");
	if (step == 0) {
		size_t i, n = sizeof api_history_steps /
		    sizeof api_history_steps[0];

		for (i = 0; i + 1 < n && span / api_history_steps[i] >
		    API_HISTORY_POINTS_DEFAULT; i++)
			;
		step = api_history_steps[i];
	}
	if (span / step > API_HISTORY_POINTS_MAX)
		return api_error(reply, 400, "a step of %lld ms over that span "
		    "gives more than %d points: use a larger step",
		    (long long)step, API_HISTORY_POINTS_MAX);
	*reply = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "app", a->id,
	    "node", a->node, "since", (json_int_t)since, "until",
	    (json_int_t)now, "step_ms", (json_int_t)step, "points",
	    db_samples_series(req->master->db, a->id, since, now + 1, step));
	return 200;
}
