/* The syntax tree of a parsed template, shared by the parser (template.c) and the executor
 * (template_exec.c). Not part of the client's API. */
#ifndef BERTH_CLIENT_TEMPLATE_INTERNAL_H
#define BERTH_CLIENT_TEMPLATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

enum arg_type { A_FIELD, A_DOT, A_VAR, A_IDENT, A_STRING, A_INT, A_FLOAT, A_BOOL, A_NIL, A_PIPE };

struct pipe;

struct arg {
    enum arg_type type;
    size_t pos, end; /* source span, for error messages */
    char *name;      /* identifier, variable ("$x"), or the decoded string */
    long long ival;
    double fval;
    bool bval;
    struct pipe *pipe;
    char **chain; /* field names applied after the base value */
    size_t nchain;
};

struct cmd {
    size_t pos, end;
    struct arg **args;
    size_t nargs;
};

struct pipe {
    size_t pos;
    char *decl[2];
    size_t ndecl;
    bool is_assign; /* "=" rather than ":=" */
    struct cmd **cmds;
    size_t ncmds;
};

enum node_type { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_BREAK, N_CONTINUE };

struct node;

struct list {
    struct node **v;
    size_t n;
};

struct node {
    enum node_type type;
    size_t pos;
    const char *text; /* N_TEXT: points into the template source */
    size_t text_len;
    struct pipe *pipe;
    struct list list, else_list;
};

struct berth_template {
    char *name; /* "" unless given: Go prints it in errors ("template: version:1: ...") */
    char *src;
    struct list root;
};

/* The line of a byte offset, 1-based. */
int berth_template_line_of(const char *src, size_t pos);

#endif
