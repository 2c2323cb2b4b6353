/* GET /v1/nodes and GET /v1/nodes/NAME. */
#include <jansson.h>
#include <stdlib.h>

#include "common/util.h"
#include "master/api.h"
#include "master/master.h"
#include "master/node.h"

int
api_nodes_list(struct api_request *req, json_t **reply)
{
	int64_t now = util_now_ms();
	struct node **v;
	size_t n;

	v = node_list(req->master->nodes, &n);
	*reply = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(*reply, node_to_json(v[i], now));
	free(v);
	return 200;
}

int
api_nodes_get(struct api_request *req, json_t **reply)
{
	struct node *n = node_find(req->master->nodes, req->params[0]);

	if (n == NULL)
		return api_error(reply, 404, "no such node: %s", req->params[0]);
	*reply = node_to_json(n, util_now_ms());
	return 200;
}
