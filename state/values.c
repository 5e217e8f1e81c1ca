#include "state/values.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void values_init(struct values *vs)
{
	memset(vs, 0, sizeof *vs);
}

void values_release(struct values *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].name);
		if (vs->v[i].text)
			explicit_bzero(vs->v[i].text, strlen(vs->v[i].text));
		free(vs->v[i].text);
	}
	free(vs->v);
	strv_release(&vs->secrets);
	for (size_t i = 0; i < vs->hidden.n; i++)
		explicit_bzero(vs->hidden.v[i], strlen(vs->hidden.v[i]));
	strv_release(&vs->hidden);
	values_init(vs);
}

void values_set(struct values *vs, const char *name, const char *text,
		bool secret)
{
	struct value *v = NULL;
	for (size_t i = 0; i < vs->n && !v; i++)
		if (!strcmp(vs->v[i].name, name))
			v = &vs->v[i];
	if (!v) {
		vs->v = xgrow(vs->v, &vs->cap, vs->n + 1, sizeof *vs->v);
		v = &vs->v[vs->n++];
		v->name = xstrdup(name);
		v->text = NULL;
		v->secret = false;
	}
	free(v->text);
	v->text = xstrdup_or_null(text);
	v->secret = v->secret || secret;
	values_refresh_secrets(vs);
}

const struct value *values_find(const struct values *vs, const char *name)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].name, name))
			return &vs->v[i];
	return NULL;
}

void values_refresh_secrets(struct values *vs)
{
	strv_release(&vs->secrets);
	for (size_t i = 0; i < vs->n; i++)
		if (vs->v[i].secret && vs->v[i].text && vs->v[i].text[0])
			strv_push(&vs->secrets, vs->v[i].text);
	for (size_t i = 0; i < vs->hidden.n; i++)
		strv_push(&vs->secrets, vs->hidden.v[i]);
}

void values_add_hidden(struct values *vs, const char *text)
{
	if (!text || !*text)
		return;
	strv_push(&vs->hidden, text);
	values_refresh_secrets(vs);
}
