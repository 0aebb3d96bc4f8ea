/* The .vdev grammar. Actions only build the AST; every check lives in the
 * semantic pass. Errors recover at ';' and '}' so one run reports many. */
%code requires {
#include "ast.h"
struct vdevc_parse;
typedef void *yyscan_t;
}

%code {
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "lexer.h"
#include "parse.h"

static void yyerror(struct vdevc_loc *loc, yyscan_t scanner,
                    struct vdevc_parse *p, const char *msg);
#define CTX (p->ctx)
}

%define api.pure full
%define api.location.type {struct vdevc_loc}
%locations
%define parse.error detailed
%expect 0
%param {yyscan_t scanner}
%parse-param {struct vdevc_parse *p}

%union {
    uint64_t num;
    const char *str;
    struct vdevc_expr *expr;
    struct vdevc_stmt *stmt;
    struct vdevc_node *node;
    struct vdevc_attr *attr;
    struct vdevc_vec *vec;
    struct vdevc_enum_member *member;
    struct vdevc_param *param;
    int op;
}

%token <num> NUMBER "number"
%token <str> IDENT "identifier" STRING "string"
%token DEVICE "device" REG "reg" FIELD "field" BAR "bar" ENUM "enum"
%token VAR "var" BUFFER "buffer" BLOCK "block" USE "use" AS "as" ON "on"
%token IF "if" ELSE "else" EXTERN "extern" INTERRUPT "interrupt"
%token CAPABILITY "capability" MEMORY "memory" RAISE "raise" LOWER "lower"
%token NOTIFY "notify" DMA "dma" LET "let"
%token SHL "<<" SHR ">>" EQ "==" NE "!=" LE "<=" GE ">=" ANDAND "&&"
%token OROR "||" OR_ASSIGN "|=" AND_ASSIGN "&=" XOR_ASSIGN "^="
%token ADD_ASSIGN "+=" SUB_ASSIGN "-="

%left OROR
%left ANDAND
%left '|'
%left '^'
%left '&'
%left EQ NE
%left '<' '>' LE GE
%left SHL SHR
%left '+' '-'
%left '*' '/' '%'
%precedence UNARY

%type <node> item bar_item reg_item hook cap_field
%type <vec> items bar_items reg_items hooks attrs enumerators params
%type <vec> opt_params idents opt_idents args opt_args stmts cap_fields
%type <attr> attr
%type <member> enumerator
%type <param> param
%type <expr> expr postfix primary opt_count
%type <stmt> stmt block_stmt else_part
%type <op> assign_op

%%

file
    : DEVICE IDENT '{' items '}'
        { p->device = vdevc_device_new(CTX, @2, $2, $4); }
    ;

items
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | items item        { $$ = vdevc_list(CTX, $1, $2); }
    ;

item
    : DEVICE expr ';'   { $$ = vdevc_prop_new(CTX, @1, "device", $2); }
    | IDENT expr ';'    { $$ = vdevc_prop_new(CTX, @1, $1, $2); }
    | ENUM IDENT '{' enumerators '}'
                        { $$ = vdevc_enum_new(CTX, @2, $2, $4); }
    | EXTERN IDENT IDENT '(' opt_params ')' ';'
                        { $$ = vdevc_extern_new(CTX, @3, $2, $3, $5); }
    | VAR IDENT attrs ';'
                        { $$ = vdevc_var_new(CTX, @2, $2, NULL, $3, NULL); }
    | VAR IDENT attrs '{' hooks '}'
                        { $$ = vdevc_var_new(CTX, @2, $2, NULL, $3, $5); }
    | BUFFER IDENT '[' expr ']' attrs ';'
                        { $$ = vdevc_var_new(CTX, @2, $2, $4, $6, NULL); }
    | BLOCK IDENT '(' opt_idents ')' '{' bar_items '}'
                        { $$ = vdevc_block_new(CTX, @2, $2, $4, $7); }
    | BAR expr attrs '{' bar_items '}'
                        { $$ = vdevc_bar_new(CTX, @2, $2, $3, $5, true); }
    | BAR expr attrs ';'
                        { $$ = vdevc_bar_new(CTX, @2, $2, $3, NULL, false); }
    | BAR expr attrs MEMORY ';'
                        { $$ = vdevc_bar_new(CTX, @2, $2, vdevc_list(CTX, $3,
                              vdevc_attr_new(CTX, @4, A_FLAG, "memory", 0, 0,
                                             NULL)), NULL, false); }
    | INTERRUPT expr '=' expr ';'
                        { $$ = vdevc_interrupt_new(CTX, @2, $2, $4); }
    | CAPABILITY IDENT attrs ';'
                        { $$ = vdevc_cap_new(CTX, @2, $2, $3, NULL, false); }
    | CAPABILITY IDENT attrs '{' cap_fields '}'
                        { $$ = vdevc_cap_new(CTX, @2, $2, $3, $5, true); }
    | error ';'         { $$ = NULL; }
    | error '}'         { $$ = NULL; }
    ;

enumerators
    : enumerator        { $$ = vdevc_list(CTX, NULL, $1); }
    | enumerators ',' enumerator
                        { $$ = vdevc_list(CTX, $1, $3); }
    | enumerators ','   { $$ = $1; }
    ;

enumerator
    : IDENT '=' expr    { $$ = vdevc_enum_member_new(CTX, @1, $1, $3); }
    ;

opt_params
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | params            { $$ = $1; }
    ;

params
    : param             { $$ = vdevc_list(CTX, NULL, $1); }
    | params ',' param  { $$ = vdevc_list(CTX, $1, $3); }
    ;

param
    : IDENT IDENT       { $$ = vdevc_param_new(CTX, @2, $1, $2); }
    ;

opt_idents
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | idents            { $$ = $1; }
    ;

idents
    : IDENT             { $$ = vdevc_list(CTX, NULL,
                                          vdevc_param_new(CTX, @1, "", $1)); }
    | idents ',' IDENT  { $$ = vdevc_list(CTX, $1,
                                          vdevc_param_new(CTX, @3, "", $3)); }
    ;

cap_fields
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | cap_fields cap_field
                        { $$ = vdevc_list(CTX, $1, $2); }
    ;

cap_field
    : FIELD IDENT attrs ';'
                        { $$ = vdevc_field_new(CTX, @2, $2, NULL, NULL, $3,
                                               NULL); }
    | error ';'         { $$ = NULL; }
    ;

attrs
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | attrs attr        { $$ = vdevc_list(CTX, $1, $2); }
    ;

attr
    : IDENT             { $$ = vdevc_attr_new(CTX, @$, A_FLAG, $1, 0, 0,
                                              NULL); }
    | IDENT NUMBER      { $$ = vdevc_attr_new(CTX, @$, A_VALUE, $1, $2, 0,
                                              NULL); }
    | IDENT NUMBER '@' NUMBER
                        { $$ = vdevc_attr_new(CTX, @$, A_PLACE, $1, $2, $4,
                                              NULL); }
    | '=' expr          { $$ = vdevc_attr_new(CTX, @2, A_RESET, "=", 0, 0,
                                              $2); }
    | ':' NUMBER        { $$ = vdevc_attr_new(CTX, @2, A_WIDTH, ":", $2, 0,
                                              NULL); }
    | ':' IDENT         { $$ = vdevc_attr_new(CTX, @2, A_TYPE, $2, 0, 0,
                                              NULL); }
    | STRING            { $$ = vdevc_attr_new(CTX, @$, A_DOC, $1, 0, 0,
                                              NULL); }
    ;

bar_items
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | bar_items bar_item
                        { $$ = vdevc_list(CTX, $1, $2); }
    ;

bar_item
    : REG IDENT opt_count '@' expr attrs ';'
                        { $$ = vdevc_reg_new(CTX, @2, $2, $3, $5, $6, NULL); }
    | REG IDENT opt_count '@' expr attrs '{' reg_items '}'
                        { $$ = vdevc_reg_new(CTX, @2, $2, $3, $5, $6, $8); }
    | MEMORY IDENT '@' expr attrs ';'
                        { $$ = vdevc_memory_new(CTX, @2, $2, $4, $5); }
    | USE IDENT '(' opt_args ')' '@' expr AS IDENT ';'
                        { $$ = vdevc_use_new(CTX, @2, $2, $4, $7, $9, @9); }
    | error ';'         { $$ = NULL; }
    | error '}'         { $$ = NULL; }
    ;

opt_count
    : %empty            { $$ = NULL; }
    | '[' expr ']'      { $$ = $2; }
    ;

reg_items
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | reg_items reg_item
                        { $$ = vdevc_list(CTX, $1, $2); }
    ;

reg_item
    : FIELD IDENT '[' expr ']' attrs ';'
                        { $$ = vdevc_field_new(CTX, @2, $2, $4, NULL, $6,
                                               NULL); }
    | FIELD IDENT '[' expr ':' expr ']' attrs ';'
                        { $$ = vdevc_field_new(CTX, @2, $2, $4, $6, $8,
                                               NULL); }
    | FIELD IDENT '[' expr ']' attrs '{' hooks '}'
                        { $$ = vdevc_field_new(CTX, @2, $2, $4, NULL, $6,
                                               $8); }
    | FIELD IDENT '[' expr ':' expr ']' attrs '{' hooks '}'
                        { $$ = vdevc_field_new(CTX, @2, $2, $4, $6, $8,
                                               $10); }
    | hook              { $$ = $1; }
    | error ';'         { $$ = NULL; }
    ;

hooks
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | hooks hook        { $$ = vdevc_list(CTX, $1, $2); }
    ;

hook
    : ON IDENT block_stmt
                        { $$ = vdevc_hook_new(CTX, @2, $2, $3); }
    ;

block_stmt
    : '{' stmts '}'     { $$ = vdevc_stmt_block(CTX, @1, $2); }
    ;

stmts
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | stmts stmt        { $$ = vdevc_list(CTX, $1, $2); }
    ;

stmt
    : postfix '=' expr ';'
                        { $$ = vdevc_stmt_assign(CTX, @2, 0, $1, $3); }
    | postfix assign_op expr ';'
                        { $$ = vdevc_stmt_assign(CTX, @2, $2, $1, $3); }
    | postfix ';'       { $$ = vdevc_stmt_expr(CTX, @1, S_CALL, $1); }
    | IF '(' expr ')' block_stmt
                        { $$ = vdevc_stmt_if(CTX, @1, $3, $5, NULL); }
    | IF '(' expr ')' block_stmt ELSE else_part
                        { $$ = vdevc_stmt_if(CTX, @1, $3, $5, $7); }
    | LET IDENT '=' expr ';'
                        { $$ = vdevc_stmt_let(CTX, @2, $2, $4); }
    | RAISE expr ';'    { $$ = vdevc_stmt_expr(CTX, @2, S_RAISE, $2); }
    | LOWER expr ';'    { $$ = vdevc_stmt_expr(CTX, @2, S_LOWER, $2); }
    | NOTIFY expr ';'   { $$ = vdevc_stmt_expr(CTX, @2, S_NOTIFY, $2); }
    | DMA IDENT expr ',' expr ',' expr ';'
                        { $$ = vdevc_stmt_dma(CTX, @2, $2, $3, $5, $7); }
    | block_stmt        { $$ = $1; }
    | error ';'         { $$ = NULL; }
    ;

else_part
    : block_stmt        { $$ = $1; }
    | IF '(' expr ')' block_stmt
                        { $$ = vdevc_stmt_if(CTX, @1, $3, $5, NULL); }
    | IF '(' expr ')' block_stmt ELSE else_part
                        { $$ = vdevc_stmt_if(CTX, @1, $3, $5, $7); }
    ;

assign_op
    : OR_ASSIGN         { $$ = '|'; }
    | AND_ASSIGN        { $$ = '&'; }
    | XOR_ASSIGN        { $$ = '^'; }
    | ADD_ASSIGN        { $$ = '+'; }
    | SUB_ASSIGN        { $$ = '-'; }
    ;

expr
    : expr OROR expr    { $$ = vdevc_expr_binary(CTX, @2, OP_OROR, $1, $3); }
    | expr ANDAND expr  { $$ = vdevc_expr_binary(CTX, @2, OP_ANDAND, $1, $3); }
    | expr '|' expr     { $$ = vdevc_expr_binary(CTX, @2, '|', $1, $3); }
    | expr '^' expr     { $$ = vdevc_expr_binary(CTX, @2, '^', $1, $3); }
    | expr '&' expr     { $$ = vdevc_expr_binary(CTX, @2, '&', $1, $3); }
    | expr EQ expr      { $$ = vdevc_expr_binary(CTX, @2, OP_EQ, $1, $3); }
    | expr NE expr      { $$ = vdevc_expr_binary(CTX, @2, OP_NE, $1, $3); }
    | expr '<' expr     { $$ = vdevc_expr_binary(CTX, @2, '<', $1, $3); }
    | expr '>' expr     { $$ = vdevc_expr_binary(CTX, @2, '>', $1, $3); }
    | expr LE expr      { $$ = vdevc_expr_binary(CTX, @2, OP_LE, $1, $3); }
    | expr GE expr      { $$ = vdevc_expr_binary(CTX, @2, OP_GE, $1, $3); }
    | expr SHL expr     { $$ = vdevc_expr_binary(CTX, @2, OP_SHL, $1, $3); }
    | expr SHR expr     { $$ = vdevc_expr_binary(CTX, @2, OP_SHR, $1, $3); }
    | expr '+' expr     { $$ = vdevc_expr_binary(CTX, @2, '+', $1, $3); }
    | expr '-' expr     { $$ = vdevc_expr_binary(CTX, @2, '-', $1, $3); }
    | expr '*' expr     { $$ = vdevc_expr_binary(CTX, @2, '*', $1, $3); }
    | expr '/' expr     { $$ = vdevc_expr_binary(CTX, @2, '/', $1, $3); }
    | expr '%' expr     { $$ = vdevc_expr_binary(CTX, @2, '%', $1, $3); }
    | '-' expr %prec UNARY
                        { $$ = vdevc_expr_unary(CTX, @1, '-', $2); }
    | '~' expr %prec UNARY
                        { $$ = vdevc_expr_unary(CTX, @1, '~', $2); }
    | '!' expr %prec UNARY
                        { $$ = vdevc_expr_unary(CTX, @1, '!', $2); }
    | postfix           { $$ = $1; }
    ;

postfix
    : primary           { $$ = $1; }
    | postfix '.' IDENT { $$ = vdevc_expr_member(CTX, @3, $1, $3); }
    | postfix '[' expr ']'
                        { $$ = vdevc_expr_index(CTX, @$, $1, $3); }
    ;

primary
    : NUMBER            { $$ = vdevc_expr_num(CTX, @1, $1); }
    | IDENT             { $$ = vdevc_expr_name(CTX, @1, $1); }
    | IDENT '(' opt_args ')'
                        { $$ = vdevc_expr_call(CTX, @1, $1, $3); }
    | '(' expr ')'      { $$ = $2; }
    ;

opt_args
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | args              { $$ = $1; }
    ;

args
    : expr              { $$ = vdevc_list(CTX, NULL, $1); }
    | args ',' expr     { $$ = vdevc_list(CTX, $1, $3); }
    ;

%%

static void
yyerror(struct vdevc_loc *loc, yyscan_t scanner, struct vdevc_parse *p,
        const char *msg)
{
    (void)scanner;
    vdevc_error(p->diag, *loc, "syntax-error", "%s", msg);
    /* At the end of input the culprit is usually an unclosed brace. */
    if (p->depth > 0 && p->depth <= VDEVC_MAX_NESTING &&
        strstr(msg, "end of file") != NULL)
        vdevc_note(p->diag, p->open[p->depth - 1], "to match this '{'");
}

int
vdevc_parse(void *ctx, struct vdevc_diag *diag, const char *src, size_t len,
            struct vdevc_device **_device)
{
    struct vdevc_parse p = {
        .ctx = ctx,
        .diag = diag,
        .line = 1,
        .column = 1,
    };
    yyscan_t scanner;
    if (yylex_init_extra(&p, &scanner) != 0)
        return -ENOMEM;
    YY_BUFFER_STATE buf = yy_scan_bytes(src, (int)len, scanner);
    int rc = yyparse(scanner, &p);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    talloc_free(p.strings);
    if (rc != 0 || p.device == NULL || vdevc_diag_failed(diag))
        return -EINVAL;
    *_device = p.device;
    return 0;
}
