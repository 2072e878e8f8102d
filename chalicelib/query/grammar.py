"""The grammar of the Wavefront query language subset that alert conditions use.

    ts(cpu.load.*, source="web-1" and not env=dev) > 2 and rate(ts(req)) < mavg(5m, ts(req))

Series functions (`ts`, `hs`) take a metric name (wildcards allowed, quoted or bare) and an
optional filter expression (`events()` takes the same filters, all optional): tag filters `key=value` / `key!=value` combined with
and / or / not / commas / parentheses. Everything else is an expression: numbers, strings,
durations (5m), `${variables}`, bare identifiers as function arguments (`sources`,
`mean`), function calls, unary minus, arithmetic, comparisons and and / or / not.
Keywords are case-insensitive; the LALR parser with the contextual lexer keeps metric names,
tag values and identifiers apart by where they appear.
"""

from __future__ import annotations

GRAMMAR = r"""
?start: expr

?expr: or_expr
?or_expr: and_expr
        | or_expr _OR and_expr           -> or_
?and_expr: not_expr
         | and_expr _AND not_expr        -> and_
?not_expr: comparison
         | _NOT not_expr                 -> not_
?comparison: sum
           | sum COMP_OP sum             -> compare
?sum: product
    | sum ADD_OP product                 -> arith
?product: unary
        | product MUL_OP unary           -> arith
?unary: atom
      | "-" unary                        -> neg

?atom: NUMBER                            -> number
     | DURATION                          -> duration
     | STRING                            -> string
     | VARIABLE                          -> variable
     | series
     | events
     | call
     | "(" expr ")"

series: SERIES_FN "(" metric ("," filters)? ")"
metric: METRIC | STRING

events: EVENTS_FN "(" [filters] ")"

call: NAME "(" [arg ("," arg)*] ")"
?arg: expr
    | NAME                               -> ident

?filters: f_or
?f_or: f_and
     | f_or _OR f_and                    -> f_or
?f_and: f_not
      | f_and (_AND | ",") f_not         -> f_and
?f_not: f_atom
      | _NOT f_not                       -> f_not
?f_atom: tag_filter
       | "(" f_or ")"
tag_filter: TAG_KEY FILTER_OP (TAG_VALUE | STRING)

SERIES_FN.3: /(ts|hs)(?=\s*\()/i
EVENTS_FN.3: /events(?=\s*\()/i
_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
COMP_OP: ">=" | "<=" | "!=" | "=" | ">" | "<"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%"
FILTER_OP: "!=" | "="
DURATION.2: /\d+(s|m|h|d|w)\b/
NUMBER: /(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
STRING: /"([^"\\]|\\.)*"/ | /'([^'\\]|\\.)*'/
VARIABLE: /\$\{[A-Za-z_][A-Za-z0-9_.\-]*\}/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
METRIC: /~?[A-Za-z0-9_*][A-Za-z0-9_.\-*~:\/]*/
TAG_KEY: /~?[A-Za-z_][A-Za-z0-9_.\-~]*/
TAG_VALUE: /[A-Za-z0-9_.\-*~:\/]+/

%import common.WS
%ignore WS
"""
