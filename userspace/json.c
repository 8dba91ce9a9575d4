// SPDX-License-Identifier: GPL-2.0
/*
 * JSON: a streaming writer for pinholectl's own output and a small parser
 * for `nft -j list ruleset`. The parser builds a tree, accepts RFC 8259
 * text only, and bounds nesting so hostile input cannot exhaust the stack.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pinholectl.h"

/* ---- writer ---- */

void json_print_string(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void jw_init(struct json_writer *w, FILE *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

static void jw_member(struct json_writer *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputs(", ", w->out);
	w->need_comma[w->depth] = true;
	if (key) {
		json_print_string(w->out, key);
		fputs(": ", w->out);
	}
}

static void jw_open(struct json_writer *w, const char *key, char c)
{
	jw_member(w, key);
	fputc(c, w->out);
	if (w->depth < (int)(sizeof(w->need_comma) - 1))
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void jw_close(struct json_writer *w, char c)
{
	fputc(c, w->out);
	if (w->depth > 0)
		w->depth--;
}

void jw_object_begin(struct json_writer *w, const char *key)
{
	jw_open(w, key, '{');
}

void jw_object_end(struct json_writer *w)
{
	jw_close(w, '}');
}

void jw_array_begin(struct json_writer *w, const char *key)
{
	jw_open(w, key, '[');
}

void jw_array_end(struct json_writer *w)
{
	jw_close(w, ']');
}

void jw_string(struct json_writer *w, const char *key, const char *value)
{
	jw_member(w, key);
	json_print_string(w->out, value);
}

void jw_uint(struct json_writer *w, const char *key, unsigned long long v)
{
	jw_member(w, key);
	fprintf(w->out, "%llu", v);
}

void jw_bool(struct json_writer *w, const char *key, bool value)
{
	jw_member(w, key);
	fputs(value ? "true" : "false", w->out);
}

void jw_null(struct json_writer *w, const char *key)
{
	jw_member(w, key);
	fputs("null", w->out);
}

void jw_document_begin(struct json_writer *w, bool metainfo)
{
	jw_object_begin(w, NULL);
	jw_array_begin(w, "pinhole");
	if (!metainfo)
		return;
	jw_object_begin(w, NULL);
	jw_object_begin(w, "metainfo");
	jw_string(w, "version", PINHOLECTL_VERSION);
	jw_uint(w, "json_schema_version", PINHOLECTL_JSON_SCHEMA_VERSION);
	jw_object_end(w);
	jw_object_end(w);
}

void jw_document_end(struct json_writer *w)
{
	jw_array_end(w);
	jw_object_end(w);
	fputc('\n', w->out);
}

/* ---- parser ---- */

#define JSON_MAX_DEPTH	64

struct json_parser {
	const char *p;
	const char *start;
	char *err;
	size_t errlen;
	bool failed;
};

static void *parse_fail(struct json_parser *jp, const char *what)
{
	if (!jp->failed)
		snprintf(jp->err, jp->errlen, "invalid JSON at offset %zu: %s",
			 (size_t)(jp->p - jp->start), what);
	jp->failed = true;
	return NULL;
}

static void skip_space(struct json_parser *jp)
{
	while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' ||
	       *jp->p == '\r')
		jp->p++;
}

static struct json_value *value_new(enum json_type type)
{
	struct json_value *v = calloc(1, sizeof(*v));

	if (v)
		v->type = type;
	return v;
}

void json_free(struct json_value *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->count; i++) {
		json_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->text);
	free(v);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_hex4(struct json_parser *jp, unsigned int *cp)
{
	int i, h;

	*cp = 0;
	for (i = 0; i < 4; i++) {
		h = hex_value(jp->p[i]);
		if (h < 0)
			return -1;
		*cp = (*cp << 4) | (unsigned int)h;
	}
	jp->p += 4;
	return 0;
}

static size_t utf8_encode(char *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int parse_escape(struct json_parser *jp, char *out, size_t *n)
{
	unsigned int cp, low;
	char c = *jp->p++;

	switch (c) {
	case '"': case '\\': case '/':
		out[(*n)++] = c; return 0;
	case 'b': out[(*n)++] = '\b'; return 0;
	case 'f': out[(*n)++] = '\f'; return 0;
	case 'n': out[(*n)++] = '\n'; return 0;
	case 'r': out[(*n)++] = '\r'; return 0;
	case 't': out[(*n)++] = '\t'; return 0;
	case 'u':
		if (parse_hex4(jp, &cp))
			return -1;
		if (cp >= 0xd800 && cp < 0xdc00 && jp->p[0] == '\\' &&
		    jp->p[1] == 'u') {
			jp->p += 2;
			if (parse_hex4(jp, &low) || low < 0xdc00 || low > 0xdfff)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
		}
		if (cp == 0)
			return -1;	/* no NUL inside C strings */
		*n += utf8_encode(out + *n, cp);
		return 0;
	default:
		return -1;
	}
}

static char *parse_string_text(struct json_parser *jp)
{
	const char *end;
	char *out;
	size_t n = 0;

	if (*jp->p != '"')
		return parse_fail(jp, "expected a string");
	jp->p++;
	/* Escapes never expand: the raw length bounds the decoded one. */
	for (end = jp->p; *end && *end != '"'; end++)
		if (*end == '\\' && end[1])
			end++;
	if (*end != '"')
		return parse_fail(jp, "unterminated string");
	out = malloc((size_t)(end - jp->p) + 4);
	if (!out)
		return parse_fail(jp, "out of memory");
	while (*jp->p != '"') {
		if ((unsigned char)*jp->p < 0x20) {
			free(out);
			return parse_fail(jp, "control character in string");
		}
		if (*jp->p == '\\') {
			jp->p++;
			if (parse_escape(jp, out, &n)) {
				free(out);
				return parse_fail(jp, "bad escape in string");
			}
			continue;
		}
		out[n++] = *jp->p++;
	}
	jp->p++;
	out[n] = '\0';
	return out;
}

static struct json_value *parse_value(struct json_parser *jp, int depth);

static int append_member(struct json_value *v, char *key,
			 struct json_value *item)
{
	struct json_value **items;
	char **keys;

	items = realloc(v->items, (v->count + 1) * sizeof(*items));
	if (!items)
		return -1;
	v->items = items;
	if (v->type == JSON_OBJECT) {
		keys = realloc(v->keys, (v->count + 1) * sizeof(*keys));
		if (!keys)
			return -1;
		v->keys = keys;
		v->keys[v->count] = key;
	}
	v->items[v->count++] = item;
	return 0;
}

static struct json_value *parse_container(struct json_parser *jp, int depth,
					  enum json_type type)
{
	char close = type == JSON_OBJECT ? '}' : ']';
	struct json_value *v = value_new(type), *item;
	char *key = NULL;

	if (!v)
		return parse_fail(jp, "out of memory");
	jp->p++;
	skip_space(jp);
	if (*jp->p == close) {
		jp->p++;
		return v;
	}
	for (;;) {
		skip_space(jp);
		if (type == JSON_OBJECT) {
			key = parse_string_text(jp);
			if (!key)
				goto err;
			skip_space(jp);
			if (*jp->p != ':') {
				parse_fail(jp, "expected ':'");
				goto err;
			}
			jp->p++;
		}
		item = parse_value(jp, depth + 1);
		if (!item)
			goto err;
		if (append_member(v, key, item)) {
			json_free(item);
			parse_fail(jp, "out of memory");
			goto err;
		}
		key = NULL;
		skip_space(jp);
		if (*jp->p == ',') {
			jp->p++;
			continue;
		}
		if (*jp->p == close) {
			jp->p++;
			return v;
		}
		parse_fail(jp, type == JSON_OBJECT ? "expected ',' or '}'" :
						     "expected ',' or ']'");
		goto err;
	}
err:
	free(key);
	json_free(v);
	return NULL;
}

static struct json_value *parse_number(struct json_parser *jp)
{
	const char *s = jp->p;
	struct json_value *v;

	if (*jp->p == '-')
		jp->p++;
	if (!isdigit((unsigned char)*jp->p))
		return parse_fail(jp, "unexpected character");
	if (*jp->p == '0')
		jp->p++;
	else
		while (isdigit((unsigned char)*jp->p))
			jp->p++;
	if (*jp->p == '.') {
		jp->p++;
		if (!isdigit((unsigned char)*jp->p))
			return parse_fail(jp, "bad number");
		while (isdigit((unsigned char)*jp->p))
			jp->p++;
	}
	if (*jp->p == 'e' || *jp->p == 'E') {
		jp->p++;
		if (*jp->p == '+' || *jp->p == '-')
			jp->p++;
		if (!isdigit((unsigned char)*jp->p))
			return parse_fail(jp, "bad number");
		while (isdigit((unsigned char)*jp->p))
			jp->p++;
	}
	v = value_new(JSON_NUMBER);
	if (!v || !(v->text = strndup(s, (size_t)(jp->p - s)))) {
		free(v);
		return parse_fail(jp, "out of memory");
	}
	return v;
}

static struct json_value *parse_literal(struct json_parser *jp,
					const char *word, enum json_type type)
{
	size_t n = strlen(word);
	struct json_value *v;

	if (strncmp(jp->p, word, n) != 0)
		return parse_fail(jp, "unexpected character");
	jp->p += n;
	v = value_new(type);
	return v ? v : parse_fail(jp, "out of memory");
}

static struct json_value *parse_value(struct json_parser *jp, int depth)
{
	struct json_value *v;

	if (depth > JSON_MAX_DEPTH)
		return parse_fail(jp, "nested too deeply");
	skip_space(jp);
	switch (*jp->p) {
	case '{':
		return parse_container(jp, depth, JSON_OBJECT);
	case '[':
		return parse_container(jp, depth, JSON_ARRAY);
	case '"':
		v = value_new(JSON_STRING);
		if (!v)
			return parse_fail(jp, "out of memory");
		v->text = parse_string_text(jp);
		if (!v->text) {
			free(v);
			return NULL;
		}
		return v;
	case 't':
		return parse_literal(jp, "true", JSON_TRUE);
	case 'f':
		return parse_literal(jp, "false", JSON_FALSE);
	case 'n':
		return parse_literal(jp, "null", JSON_NULL);
	case '\0':
		return parse_fail(jp, "unexpected end of text");
	default:
		return parse_number(jp);
	}
}

struct json_value *json_parse(const char *text, char *err, size_t errlen)
{
	struct json_parser jp = {
		.p = text, .start = text, .err = err, .errlen = errlen,
	};
	struct json_value *v = parse_value(&jp, 0);

	if (!v)
		return NULL;
	skip_space(&jp);
	if (*jp.p != '\0') {
		json_free(v);
		return parse_fail(&jp, "trailing text after the value");
	}
	return v;
}

const struct json_value *json_get(const struct json_value *obj,
				  const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->count; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

const char *json_get_string(const struct json_value *obj, const char *key)
{
	const struct json_value *v = json_get(obj, key);

	return v && v->type == JSON_STRING ? v->text : NULL;
}
