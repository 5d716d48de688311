"""SOQL parser: tokens, then a syntax tree; errors carry positions for Salesforce's caret message.

Only syntax is checked here. Whether objects and fields exist, and whether literal types fit the
fields, is the evaluator's business (`local_salesforce.query`), because those answers depend on the
org and the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from local_salesforce.errors import ApiError
from local_salesforce.values import normalize_date, parse_datetime

MAX_QUERY_LENGTH = 100_000
# Parentheses, NOT and sub-queries each take a few Python frames in the parser and the evaluator; this
# keeps a hostile query well below the recursion limit while being far deeper than any real filter.
MAX_NESTING = 100

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT:]))
  | (?P<number>[+-]?\d+(?:\.\d+)?(?![\w.]))
  | (?P<string>')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?::\d+)?)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),.])
    """,
    re.VERBOSE,
)
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
# \% and \_ only mean something inside LIKE; keep them marked so LIKE can tell them from wildcards.
LIKE_ESCAPE = "\x00"

DATE_LITERALS = frozenset(
    {
        "TODAY",
        "YESTERDAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
        "THIS_YEAR",
        "LAST_YEAR",
        "NEXT_YEAR",
    }
)
DATE_N_LITERALS = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_MONTHS", "NEXT_N_MONTHS"})
RESERVED = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER",
        "BY",
        "LIMIT",
        "OFFSET",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "NULL",
        "TRUE",
        "FALSE",
        "GROUP",
        "HAVING",
        "WITH",
        "FOR",
        "USING",
        "INCLUDES",
        "EXCLUDES",
        "TYPEOF",
    }
)

_CLAUSE_WORDS = frozenset(
    {"SELECT", "FROM", "WHERE", "ORDER", "LIMIT", "OFFSET", "AND", "OR", "NOT", "IN", "LIKE"}
)


class QueryError(ApiError):
    """A SOQL error; `position` (0-based offset in the query) places the caret."""

    def __init__(self, code: str, detail: str, query: str, position: int) -> None:
        super().__init__(400, code, format_message(query, position, detail))
        self.detail = detail


def format_message(query: str, position: int, detail: str) -> str:
    """Salesforce's shape: the query line, a caret under the problem, then Row/Column and the text."""
    position = max(0, min(position, len(query)))
    row = query.count("\n", 0, position) + 1
    line_start = query.rfind("\n", 0, position) + 1
    line_end = query.find("\n", position)
    line = query[line_start : line_end if line_end != -1 else len(query)]
    column = position - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}"


@dataclass
class Token:
    kind: str  # ident, string, number, date, datetime, op, punct, eof
    value: object
    pos: int
    text: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and str(self.value).upper() in words


@dataclass
class FieldPath:
    parts: list[str]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass
class Count:
    field: FieldPath | None
    alias: str | None
    pos: int
    distinct: bool = False  # COUNT_DISTINCT(field)


@dataclass
class Literal:
    kind: str  # string, number, boolean, null, date, datetime, date_literal
    value: object
    pos: int
    text: str


@dataclass
class Comparison:
    field: FieldPath
    op: str  # = != < <= > >= IN NOT IN LIKE
    value: Literal | list[Literal] | Select
    pos: int


@dataclass
class BoolOp:
    op: str  # AND, OR
    items: list


@dataclass
class Not:
    item: object


@dataclass
class OrderItem:
    field: FieldPath
    descending: bool
    nulls_last: bool


@dataclass
class Select:
    fields: list  # FieldPath | Count | Select (child sub-query)
    object_name: str
    object_pos: int
    where: object = None
    order: list[OrderItem] = field(default_factory=list)
    group_by: list[FieldPath] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    count_only: bool = False
    offset_pos: int = 0


def tokenize(query: str) -> list[Token]:
    """Tokens up to the first lexical problem, which becomes a `bad` token carrying its error.

    The parser reports whichever comes first: a syntax error before the bad spot, or the bad token.
    """
    tokens: list[Token] = []
    position = 0
    while position < len(query):
        match = _TOKEN_RE.match(query, position)
        if match is None:
            error = QueryError("MALFORMED_QUERY", f"unexpected token: '{query[position]}'", query, position)
            tokens.append(Token("bad", error, position, query[position]))
            break
        kind = match.lastgroup
        if kind == "ws":
            position = match.end()
            continue
        if kind == "string":
            try:
                value, end = _read_string(query, position)
            except QueryError as error:
                tokens.append(Token("bad", error, position, query[position]))
                break
            tokens.append(Token("string", value, position, query[position:end]))
            position = end
            continue
        text = match.group()
        value: object = text
        malformed = _impossible_date(kind or "", text)
        if kind == "number" and not malformed:
            try:
                value = float(text) if "." in text else int(text)
            except ValueError:  # int() refuses over 4,300 digits (CVE-2020-10735); no SOQL number has them
                malformed = True
        if malformed:
            error = QueryError("MALFORMED_QUERY", f"unexpected token: '{text[:40]}'", query, position)
            tokens.append(Token("bad", error, position, text))
            break
        tokens.append(Token(kind or "", value, position, text))
        position = match.end()
    tokens.append(Token("eof", None, len(query), "<EOF>"))
    return tokens


def _impossible_date(kind: str, text: str) -> bool:
    """Shaped like a date or datetime, but no such day, time or offset (2020-02-30, +25:00)."""
    if kind == "datetime":
        return parse_datetime(text) is None
    return kind == "date" and normalize_date(text) is None


def _read_string(query: str, start: int) -> tuple[str, int]:
    chars: list[str] = []
    position = start + 1
    while position < len(query):
        char = query[position]
        if char == "'":
            return "".join(chars), position + 1
        if char == "\\":
            following = query[position + 1 : position + 2]
            if following in _ESCAPES:
                chars.append(_ESCAPES[following])
            elif following in ("%", "_"):
                chars.append(LIKE_ESCAPE + following)
            else:
                raise QueryError(
                    "MALFORMED_QUERY",
                    f"Invalid string literal '{query[start : position + 2]}'. "
                    f"Illegal character sequence '\\{following}' in string literal.",
                    query,
                    position,
                )
            position += 2
            continue
        chars.append(char)
        position += 1
    raise QueryError("MALFORMED_QUERY", f"unexpected token: '{query[start : start + 40]}'", query, start)


class Parser:
    """Recursive descent over the token list; one instance per query string."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.index = 0
        self.depth = 0

    # ---- token helpers -------------------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, ahead: int) -> Token:
        """The token `ahead` places on, or the final EOF token."""
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind == "bad":
            raise token.value  # type: ignore[misc]
        self.index += 1
        return token

    def unexpected(self, token: Token | None = None) -> QueryError:
        token = token or self.current
        if token.kind == "bad":
            return token.value  # type: ignore[return-value]
        text = "<EOF>" if token.kind == "eof" else token.text
        return QueryError("MALFORMED_QUERY", f"unexpected token: '{text}'", self.query, token.pos)

    def expect_word(self, word: str) -> Token:
        if not self.current.is_word(word):
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.current.kind != "punct" or self.current.value != char:
            raise self.unexpected()
        return self.advance()

    def at_punct(self, char: str) -> bool:
        return self.current.kind == "punct" and self.current.value == char

    def enter(self) -> None:
        """Count one level of nesting at the current token; too deep is a syntax error, not a crash."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.unexpected()

    # ---- grammar -------------------------------------------------------------------------------

    def parse(self) -> Select:
        select = self.select()
        if self.current.kind != "eof":
            raise self.unexpected()
        return select

    def select(self, nested: bool = False) -> Select:
        if nested:
            self.enter()
        self.expect_word("SELECT")
        fields, count_only = self.select_list()
        self.expect_word("FROM")
        object_token = self.advance()
        if object_token.kind != "ident" or str(object_token.value).upper() in _CLAUSE_WORDS:
            raise self.unexpected(object_token)
        select = Select(
            fields=fields,
            object_name=str(object_token.value),
            object_pos=object_token.pos,
            count_only=count_only,
        )
        if self.current.kind == "ident" and not self.current.is_word(*RESERVED):
            self.advance()  # an alias for the object, which SOQL allows
        if self.current.is_word("WHERE"):
            self.advance()
            select.where = self.condition()
        if self.current.is_word("GROUP"):
            self.advance()
            self.expect_word("BY")
            select.group_by.append(self.field_path())
            while self.at_punct(","):
                self.advance()
                select.group_by.append(self.field_path())
        if self.current.is_word("ORDER"):
            self.advance()
            self.expect_word("BY")
            select.order.append(self.order_item())
            while self.at_punct(","):
                self.advance()
                select.order.append(self.order_item())
        if self.current.is_word("LIMIT"):
            self.advance()
            select.limit = self.integer()
        if self.current.is_word("OFFSET"):
            select.offset_pos = self.advance().pos
            select.offset = self.integer()
        if nested:
            self.depth -= 1
        return select

    def integer(self) -> int:
        token = self.advance()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise self.unexpected(token)
        return token.value

    def select_list(self) -> tuple[list, bool]:
        if self.current.is_word("COUNT") and self.peek(1).value == "(" and self.peek(2).value == ")":
            self.index += 3
            return [], True
        fields = [self.select_item()]
        while self.at_punct(","):
            self.advance()
            fields.append(self.select_item())
        return fields, False

    def select_item(self) -> FieldPath | Count | Select:
        if self.at_punct("("):
            self.advance()
            sub = self.select(nested=True)
            self.expect_punct(")")
            return sub
        if self.current.is_word("COUNT", "COUNT_DISTINCT") and self.peek(1).value == "(":
            distinct = self.current.is_word("COUNT_DISTINCT")
            pos = self.advance().pos
            self.advance()
            counted = None if self.at_punct(")") and not distinct else self.field_path()
            self.expect_punct(")")
            alias = None
            if self.current.kind == "ident" and not self.current.is_word(*RESERVED):
                alias = str(self.advance().value)
            return Count(counted, alias, pos, distinct)
        return self.field_path()

    def field_path(self) -> FieldPath:
        token = self.advance()
        if token.kind != "ident" or str(token.value).upper() in RESERVED:
            raise self.unexpected(token)
        parts = [str(token.value)]
        while self.at_punct("."):
            self.advance()
            part = self.advance()
            if part.kind != "ident":
                raise self.unexpected(part)
            parts.append(str(part.value))
        return FieldPath(parts, token.pos)

    def order_item(self) -> OrderItem:
        path = self.field_path()
        descending = False
        if self.current.is_word("ASC", "DESC"):
            descending = self.advance().is_word("DESC")
        nulls_last = descending
        if self.current.is_word("NULLS"):
            self.advance()
            if not self.current.is_word("FIRST", "LAST"):
                raise self.unexpected()
            nulls_last = self.advance().is_word("LAST")
        return OrderItem(path, descending, nulls_last)

    def condition(self) -> object:
        """cond := factor {(AND|OR) factor}; mixing AND and OR at one level is a syntax error."""
        first = self.factor()
        joiner: str | None = None
        items = [first]
        while self.current.is_word("AND", "OR"):
            word = str(self.current.value).upper()
            if joiner is not None and word != joiner:
                raise self.unexpected()
            joiner = word
            self.advance()
            items.append(self.factor())
        return BoolOp(joiner, items) if joiner else first

    def factor(self) -> object:
        if self.current.is_word("NOT") or self.at_punct("("):
            self.enter()
            if self.advance().is_word("NOT"):
                inner = Not(self.factor())
            else:
                inner = self.condition()
                self.expect_punct(")")
            self.depth -= 1
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        path = self.field_path()
        token = self.current
        if token.kind == "op":
            self.advance()
            op = "!=" if token.value == "<>" else str(token.value)
            return Comparison(path, op, self.literal(), token.pos)
        negated = False
        if token.is_word("NOT"):
            negated = True
            self.advance()
        if self.current.is_word("IN"):
            self.advance()
            return Comparison(path, "NOT IN" if negated else "IN", self.in_values(), token.pos)
        if self.current.is_word("LIKE") and not negated:
            self.advance()
            value = self.literal()
            if value.kind != "string":
                raise self.unexpected(self.tokens[self.index - 1])
            return Comparison(path, "LIKE", value, token.pos)
        raise self.unexpected()

    def in_values(self) -> list[Literal] | Select:
        self.expect_punct("(")
        if self.current.is_word("SELECT"):
            sub = self.select(nested=True)
            self.expect_punct(")")
            return sub
        values = [self.literal()]
        while self.at_punct(","):
            self.advance()
            values.append(self.literal())
        self.expect_punct(")")
        return values

    def literal(self) -> Literal:
        token = self.advance()
        if token.kind in ("string", "number", "date", "datetime"):
            return Literal(token.kind, token.value, token.pos, token.text)
        if token.kind == "ident":
            word = str(token.value).upper()
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word == "TRUE", token.pos, token.text)
            if word == "NULL":
                return Literal("null", None, token.pos, token.text)
            name, _, amount = word.partition(":")
            # A ten-digit N is already past the calendar's end; int() would refuse thousands of digits.
            if (name in DATE_LITERALS and not amount) or (name in DATE_N_LITERALS and 0 < len(amount) < 10):
                return Literal("date_literal", (name, int(amount) if amount else 0), token.pos, token.text)
        raise self.unexpected(token)


def parse(query: str) -> Select:
    if len(query) > MAX_QUERY_LENGTH:
        raise ApiError(
            400, "MALFORMED_QUERY", f"SOQL statements can not be longer than {MAX_QUERY_LENGTH} characters"
        )
    if not query.strip():
        raise QueryError("MALFORMED_QUERY", "unexpected token: '<EOF>'", query, 0)
    return Parser(query).parse()
