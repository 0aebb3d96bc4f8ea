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

/* The scanner is vdevc_scan(); yylex() below wraps it. */
#define YY_DECL                                                                \
    int vdevc_scan(YYSTYPE *yylval_param, YYLTYPE *yylloc_param,               \
                   yyscan_t yyscanner)
#include "lexer.h"
#include "parse.h"
#include "suggest.h"

YY_DECL;
static int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);
static void yyerror(struct vdevc_loc *loc, yyscan_t scanner,
                    struct vdevc_parse *p, const char *msg);
#define CTX (p->ctx)
}

%define api.pure full
%define api.location.type {struct vdevc_loc}
%locations
%define parse.error custom
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
%token PROC "proc" RETURN "return" FOR "for" BREAK "break" CONTINUE "continue"
%token DOTDOT ".."
%token TIMER "timer" FIFO "fifo" STREAM "stream" EVENT "event" NOW "now"
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
%type <vec> opt_proc_params proc_params
%type <param> proc_param
%type <num> opt_result
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
    | PROC IDENT '(' opt_proc_params ')' opt_result block_stmt
                        { $$ = vdevc_proc_new(CTX, @2, $2, $4, $6, $7); }
    | hook              { $$ = $1; }
    | IDENT '{' bar_items '}'
                        { $$ = vdevc_config_new(CTX, @1, $1, $3); }
    | TIMER IDENT attrs '{' hooks '}'
                        { $$ = vdevc_timer_new(CTX, @2, $2, $3, $5); }
    | TIMER IDENT attrs ';'
                        { $$ = vdevc_timer_new(CTX, @2, $2, $3, NULL); }
    | FIFO IDENT '[' expr ']' attrs ';'
                        { $$ = vdevc_fifo_new(CTX, @2, $2, $4, $6); }
    | STREAM IDENT attrs '{' hooks '}'
                        { $$ = vdevc_stream_new(CTX, @2, $2, $3, $5); }
    | STREAM IDENT attrs ';'
                        { $$ = vdevc_stream_new(CTX, @2, $2, $3, NULL); }
    | EVENT IDENT attrs ';'
                        { $$ = vdevc_event_new(CTX, @2, $2, $3); }
    | error ';'         { $$ = NULL; }
    | error '}'         { $$ = NULL; p->want_semicolon = false; }
    | error '{' skip '}' { $$ = NULL; }
    ;

/* Error recovery skips a whole { } body (a misspelt "bra 0 ... { ... }"),
 * so its '}' does not end the enclosing one. A token missing here only
 * makes recovery coarser. */
skip
    : %empty
    | skip skip_token
    | skip '{' skip '}'
    ;

skip_token
    : NUMBER | IDENT | STRING | DEVICE | REG | FIELD | BAR | ENUM | VAR
    | BUFFER | BLOCK | USE | AS | ON | IF | ELSE | EXTERN | INTERRUPT
    | CAPABILITY | MEMORY | RAISE | LOWER | NOTIFY | DMA | LET | SHL | SHR
    | PROC | RETURN | FOR | BREAK | CONTINUE | DOTDOT
    | EQ | NE | LE | GE | ANDAND | OROR | OR_ASSIGN | AND_ASSIGN | XOR_ASSIGN
    | ADD_ASSIGN | SUB_ASSIGN | '(' | ')' | '[' | ']' | ';' | ',' | '.' | '@'
    | ':' | '=' | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '~' | '!'
    | '<' | '>'
    | TIMER | FIFO | STREAM | EVENT | NOW
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

opt_proc_params
    : %empty            { $$ = vdevc_list(CTX, NULL, NULL); }
    | proc_params       { $$ = $1; }
    ;

proc_params
    : proc_param        { $$ = vdevc_list(CTX, NULL, $1); }
    | proc_params ',' proc_param
                        { $$ = vdevc_list(CTX, $1, $3); }
    ;

/* Width 0 means "not given" (64 bits; no result): a written ": 0" is
 * passed on as UINT64_MAX for sema to refuse. */
proc_param
    : IDENT             { $$ = vdevc_proc_param_new(CTX, @1, $1, 0); }
    | IDENT ':' NUMBER  { $$ = vdevc_proc_param_new(CTX, @1, $1,
                                                    $3 ? $3 : UINT64_MAX); }
    ;

opt_result
    : %empty            { $$ = 0; }
    | ':' NUMBER        { $$ = $2 ? $2 : UINT64_MAX; }
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
    | error '{' skip '}' { $$ = NULL; }
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
    | IDENT NUMBER DOTDOT NUMBER
                        { $$ = vdevc_attr_new(CTX, @$, A_RANGE, $1, $2, $4,
                                              NULL); }
    | '=' expr          { $$ = vdevc_attr_new(CTX, @2, A_RESET, "=", 0, 0,
                                              $2); }
    | ':' NUMBER        { $$ = vdevc_attr_new(CTX, @2, A_WIDTH, ":", $2, 0,
                                              NULL); }
    | ':' IDENT         { $$ = vdevc_attr_new(CTX, @2, A_TYPE, $2, 0, 0,
                                              NULL); }
    | STRING            { $$ = vdevc_attr_new(CTX, @$, A_DOC, $1, 0, 0,
                                              NULL); }
    | IDENT '(' expr ')'
                        { $$ = vdevc_attr_new(CTX, @1, A_EXPR, $1, 0, 0,
                                              $3); }
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
    | error '}'         { $$ = NULL; p->want_semicolon = false; }
    | error '{' skip '}' { $$ = NULL; }
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
    | error '{' skip '}' { $$ = NULL; }
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
    | RETURN ';'        { $$ = vdevc_stmt_new(CTX, @1, S_RETURN); }
    | RETURN expr ';'   { $$ = vdevc_stmt_expr(CTX, @1, S_RETURN, $2); }
    | BREAK ';'         { $$ = vdevc_stmt_new(CTX, @1, S_BREAK); }
    | CONTINUE ';'      { $$ = vdevc_stmt_new(CTX, @1, S_CONTINUE); }
    | FOR IDENT IDENT expr DOTDOT expr block_stmt
                        { $$ = vdevc_stmt_for(CTX, @2, $2, @3, $3, $4, $6,
                                              @6, NULL, NULL, $7); }
    | FOR IDENT IDENT expr DOTDOT expr IDENT expr block_stmt
                        { $$ = vdevc_stmt_for(CTX, @2, $2, @3, $3, $4, $6,
                                              @7, $7, $8, $9); }
    | IDENT IDENT ';'   { $$ = vdevc_stmt_word(CTX, @1, $1, @2, $2); }
    | IDENT IDENT IDENT expr IDENT ';'
                        { $$ = vdevc_stmt_start(CTX, @1, $1, @2, $2, @3, $3,
                                                $4, @5, $5); }
    | block_stmt        { $$ = $1; }
    | error ';'         { $$ = NULL; }
    | error '{' skip '}' { $$ = NULL; }
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
    | postfix '.' IDENT '(' opt_args ')'
                        { $$ = vdevc_expr_method(CTX, @3, $1, $3, $5); }
    | postfix '[' expr ']'
                        { $$ = vdevc_expr_index(CTX, @$, $1, $3); }
    ;

primary
    : NUMBER            { $$ = vdevc_expr_num(CTX, @1, $1); }
    | IDENT             { $$ = vdevc_expr_name(CTX, @1, $1); }
    | NOW               { $$ = vdevc_expr_now(CTX, @1); }
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

void
vdevc_token_push(struct vdevc_parse *p, int kind, struct vdevc_loc loc,
                 size_t start, size_t end)
{
    struct vdevc_tokens *t = p->toks;
    if (!t)
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct vdevc_token *v =
            talloc_realloc(t, t->v, struct vdevc_token, cap);
        if (!v)
            return;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct vdevc_token){kind, loc, start, end};
}

/* After a missing ';' was reported, error recovery drops the token that
 * revealed it (no error rule shifts it, except `error '}'`, whose action
 * cancels this): the ';' comes first, then that token again. */
static int
next_token(struct vdevc_parse *p, YYSTYPE *lval, YYLTYPE *lloc,
           yyscan_t scanner)
{
    if (p->want_semicolon) {
        p->want_semicolon = false;
        p->redeliver = true;
        *lloc = (struct vdevc_loc){p->prev.loc.last_line,
                                   p->prev.loc.last_column,
                                   p->prev.loc.last_line,
                                   p->prev.loc.last_column};
        return ';';
    }
    if (p->redeliver) {
        p->redeliver = false;
        *lloc = p->held.loc;
        if (p->held.kind == NUMBER)
            lval->num = p->held_num;
        else
            lval->str = p->held_str;
        return p->held.kind;
    }
    return vdevc_scan(lval, lloc, scanner);
}

/* Keeps the last two tokens, and the first two of each statement (what
 * follows ';', '{' or '}'), for the syntax error messages. */
static int
yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner)
{
    struct vdevc_parse *p = yyget_extra(scanner);
    bool again = p->redeliver, inserted = p->want_semicolon;
    int kind = next_token(p, lval, lloc, scanner);
    struct vdevc_token tok = {kind, *lloc, p->offset, p->offset};
    if (again)
        tok = p->held;
    else if (inserted)
        tok.start = tok.end = p->prev.end;
    else if (kind != 0)
        tok.start = p->offset - (size_t)yyget_leng(scanner);
    int last = p->cur.kind;
    if (last == ';' || last == '{' || last == '}' || last == 0) {
        p->stmt[0] = tok;
        p->nr_stmt = 1;
        p->stmt_word = kind == IDENT ? lval->str : NULL;
    } else if (p->nr_stmt == 1) {
        p->stmt[1] = tok;
        p->nr_stmt = 2;
    }
    p->prev = p->cur;
    p->cur = tok;
    p->cur_num = kind == NUMBER ? lval->num : 0;
    p->cur_str = kind == IDENT || kind == STRING ? lval->str : NULL;
    if (p->toks && kind != 0 && !again && !inserted)
        vdevc_token_push(p, kind, *lloc, tok.start, tok.end);
    return kind;
}

/* "reg" for the keyword token REG: its name is a lower-case word. */
static const char *
symbol_keyword(yysymbol_kind_t k)
{
    if (k == YYSYMBOL_IDENT || k == YYSYMBOL_NUMBER || k == YYSYMBOL_STRING ||
        k == YYSYMBOL_YYerror || k < 0 || k >= YYNTOKENS)
        return NULL;
    const char *n = yysymbol_name(k);
    if (*n == '\0')
        return NULL;
    for (const char *c = n; *c; c++)
        if (*c < 'a' || *c > 'z')
            return NULL;
    return n;
}

const char *
vdevc_keyword(int kind)
{
    if (kind <= 0 || kind > YYMAXUTOK)
        return NULL;
    return symbol_keyword(YYTRANSLATE(kind));
}

/* How a message names a token: 'reg', ';', identifier 'foo', 'end of
 * file'. */
static char *
describe(void *ctx, struct vdevc_parse *p, yysymbol_kind_t k,
         const struct vdevc_token *t)
{
    const char *kw = symbol_keyword(k);
    if (kw)
        return talloc_asprintf(ctx, "'%s'", kw);
    switch (k) {
    case YYSYMBOL_YYEOF:
        return talloc_strdup(ctx, "end of file");
    case YYSYMBOL_IDENT:
    case YYSYMBOL_NUMBER:
        if (t && t->end > t->start && t->end - t->start < 40)
            return talloc_asprintf(ctx, "%s '%.*s'",
                                   k == YYSYMBOL_IDENT ? "identifier"
                                                       : "number",
                                   (int)(t->end - t->start), p->src + t->start);
        return talloc_strdup(ctx, k == YYSYMBOL_IDENT ? "identifier"
                                                      : "number");
    case YYSYMBOL_STRING:
        return talloc_strdup(ctx, "string");
    default:
        break;
    }
    return talloc_strdup(ctx, yysymbol_name(k));
}

static const struct vdevc_token *
token_of(struct vdevc_parse *p, yysymbol_kind_t k)
{
    return YYTRANSLATE(p->cur.kind) == k ? &p->cur : NULL;
}

/* Long forms people write for a keyword. */
static const char *
keyword_alias(const char *word)
{
    static const char *const aliases[][2] = {
        {"register", "reg"},
    };
    for (unsigned i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (vdevc_edit_distance(word, aliases[i][0], 1) <= 1)
            return aliases[i][1];
    return NULL;
}

/* The lookahead is an identifier where keywords were expected: the
 * nearest expected keyword. */
static const char *
expected_keyword(struct vdevc_parse *p, const yysymbol_kind_t *exp, int n,
                 yysymbol_kind_t look)
{
    if (look != YYSYMBOL_IDENT || p->cur.kind != IDENT)
        return NULL;
    char *word = talloc_strndup(p->ctx, p->src + p->cur.start,
                                p->cur.end - p->cur.start);
    struct vdevc_suggest s;
    vdevc_suggest_init(&s, word);
    bool any = false;
    for (int i = 0; i < n; i++) {
        const char *kw = symbol_keyword(exp[i]);
        any |= !!kw;
        vdevc_suggest_add(&s, kw);
    }
    const char *best = vdevc_suggest_best(&s);
    const char *alias = any && !best ? keyword_alias(word) : NULL;
    for (int i = 0; alias && i < n; i++) {
        const char *kw = symbol_keyword(exp[i]);
        if (kw && strcmp(kw, alias) == 0)
            best = alias;
    }
    talloc_free(word);
    return best;
}

/* The statement began with an identifier that is nothing but a misspelt
 * keyword ("bra 0 mem32 ...", "iff (x) {"): the keyword, or NULL. An
 * assignment, member or index after it means it is a name. */
static const char *
misspelt_statement(struct vdevc_parse *p)
{
    if (!p->stmt_word || p->nr_stmt < 2 ||
        p->stmt[0].start == p->cur.start)
        return NULL;
    switch (p->stmt[1].kind) {
    case '=':
    case OR_ASSIGN:
    case AND_ASSIGN:
    case XOR_ASSIGN:
    case ADD_ASSIGN:
    case SUB_ASSIGN:
    case '.':
    case '[':
        return NULL;
    case '(':
        if (p->cur.kind != '{')
            return NULL;
        break;
    default:
        break;
    }
    struct vdevc_suggest s;
    vdevc_suggest_init(&s, p->stmt_word);
    for (int k = 0; k < YYNTOKENS; k++) {
        const char *kw = symbol_keyword(k);
        if (kw && strcmp(kw, "as") != 0 && strcmp(kw, "else") != 0)
            vdevc_suggest_add(&s, kw);
    }
    const char *best = vdevc_suggest_best(&s);
    return best ? best : keyword_alias(p->stmt_word);
}

static bool
expects(const yysymbol_kind_t *exp, int n, yysymbol_kind_t k)
{
    for (int i = 0; i < n; i++)
        if (exp[i] == k)
            return true;
    return false;
}

/* A missing ';' shows at the end of the token it should follow: the
 * next token is on a later line, or closes or starts something. */
static bool
missing_semicolon(struct vdevc_parse *p, const yysymbol_kind_t *exp, int n,
                  yysymbol_kind_t look)
{
    if (!expects(exp, n, YYTRANSLATE(';')))
        return false;
    if (p->prev.kind == 0 || look == YYTRANSLATE('{'))
        return false;
    return p->cur.loc.first_line > p->prev.loc.last_line ||
           look == YYTRANSLATE('}') || look == YYSYMBOL_YYEOF ||
           symbol_keyword(look);
}

static int
yyreport_syntax_error(const yypcontext_t *yyctx, yyscan_t scanner,
                      struct vdevc_parse *p)
{
    (void)scanner;
    void *tmp = talloc_new(NULL);
    yysymbol_kind_t look = yypcontext_token(yyctx);
    int n = yypcontext_expected_tokens(yyctx, NULL, 0);
    yysymbol_kind_t *exp = talloc_array(tmp, yysymbol_kind_t, n + 1);
    n = yypcontext_expected_tokens(yyctx, exp, n + 1);
    struct vdevc_loc at = *yypcontext_location(yyctx);
    const char *what = describe(tmp, p, look, token_of(p, look));
    const char *kw = expected_keyword(p, exp, n, look);
    const char *misspelt = kw ? NULL : misspelt_statement(p);
    if (misspelt) {
        vdevc_error_unknown(p->diag, p->stmt[0].loc, "syntax-error", misspelt,
                            "'%s' is not a keyword", p->stmt_word);
    } else if (!kw && missing_semicolon(p, exp, n, look)) {
        struct vdevc_loc end = {p->prev.loc.last_line, p->prev.loc.last_column,
                                p->prev.loc.last_line, p->prev.loc.last_column};
        vdevc_error_fix(p->diag, end, "syntax-error", ";",
                        "expected ';' after %s",
                        describe(tmp, p, YYTRANSLATE(p->prev.kind), &p->prev));
        p->want_semicolon = true;
        p->held = p->cur;
        p->held_num = p->cur_num;
        p->held_str = p->cur_str;
    } else {
        char *msg = talloc_asprintf(tmp, "unexpected %s", what);
        if (n > 0 && n <= 4) {
            msg = talloc_strdup_append(msg, ", expected ");
            for (int i = 0; i < n; i++)
                msg = talloc_asprintf_append(
                    msg, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                    describe(tmp, p, exp[i], NULL));
        }
        vdevc_error_unknown(p->diag, at, "syntax-error", kw, "%s", msg);
    }
    /* At the end of input the culprit is usually an unclosed brace. */
    if (look == YYSYMBOL_YYEOF && p->depth > 0 &&
        p->depth <= VDEVC_MAX_NESTING)
        vdevc_note(p->diag, p->open[p->depth - 1], "to match this '{'");
    talloc_free(tmp);
    return 0;
}

static void
yyerror(struct vdevc_loc *loc, yyscan_t scanner, struct vdevc_parse *p,
        const char *msg)
{
    (void)scanner;
    vdevc_error(p->diag, *loc, "syntax-error", "%s", msg);
}

static int
run(void *ctx, struct vdevc_diag *diag, const char *src, size_t len,
    struct vdevc_tokens *toks, struct vdevc_device **_device)
{
    struct vdevc_parse p = {
        .ctx = vdevc_slab_new(ctx),
        .diag = diag,
        .src = src,
        .line = 1,
        .column = 1,
        .toks = toks,
    };
    yyscan_t scanner;
    if (!p.ctx || yylex_init_extra(&p, &scanner) != 0)
        return -ENOMEM;
    /* A large file's names interned without rehashing them at every
     * doubling: about one distinct name per 32 bytes at most. */
    if (len >= 1u << 16) {
        p.cap_strings = 1024;
        while (p.cap_strings < len / 16)
            p.cap_strings *= 2;
        p.strings = talloc_zero_array(p.ctx, const char *, p.cap_strings);
        if (!p.strings)
            p.cap_strings = 0;
    }
    YY_BUFFER_STATE buf = yy_scan_bytes(src, (int)len, scanner);
    int rc = yyparse(scanner, &p);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    talloc_free(p.strings);
    if (rc != 0 || !p.device || vdevc_diag_failed(diag))
        return -EINVAL;
    *_device = p.device;
    return 0;
}

int
vdevc_parse(void *ctx, struct vdevc_diag *diag, const char *src, size_t len,
            struct vdevc_device **_device)
{
    return run(ctx, diag, src, len, NULL, _device);
}

int
vdevc_parse_tokens(void *ctx, struct vdevc_diag *diag, const char *src,
                   size_t len, struct vdevc_tokens **_toks)
{
    void *tmp = talloc_new(NULL);
    struct vdevc_tokens *toks = talloc_zero(tmp, struct vdevc_tokens);
    struct vdevc_device *dev;
    int rc = run(tmp, diag, src, len, toks, &dev);
    if (rc == 0)
        *_toks = talloc_steal(ctx, toks);
    talloc_free(tmp);
    return rc;
}
