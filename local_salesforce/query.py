"""SOQL evaluator: resolves a parsed query against the schema and the org, then runs it once.

Resolution turns every field path into a compiled getter and checks literal types, answering
INVALID_TYPE / INVALID_FIELD with Salesforce's caret messages. Execution filters, sorts and projects
the whole result up front into wire-ready dicts; the server keeps those rows for the query locator,
so later pages are slices and the result does not drift while it is being read.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter

from local_salesforce import access, schema, soql
from local_salesforce.ids import OBJECT_BY_PREFIX, to_18
from local_salesforce.soql import FieldPath, Literal, QueryError
from local_salesforce.store import Store
from local_salesforce.values import format_datetime, parse_datetime

MAX_OFFSET = 2000
_TYPE_SUFFIX = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_FIELD_SUFFIX = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_RELATIONSHIP_SUFFIX = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom "
    "relationship name. Please reference your WSDL or the describe call for the appropriate names."
)
_NAME_TYPES = {"Id": "id", "IsActive": "boolean"}


@dataclass
class Caller:
    """Who runs the query: their permissions and the API version of the request."""

    permissions: frozenset[str]
    version: str


@dataclass
class Result:
    total_size: int
    rows: list[dict]
    pageable: bool  # False for OFFSET queries: Salesforce returns one batch, no locator
    aggregate: bool = False  # aggregate results cannot be continued with queryMore


@dataclass
class Resolved:
    """A field path bound to the schema: canonical names per hop, the final field and a getter."""

    keys: list[str]  # canonical relationship names then the field name
    hops: list[tuple[str, str | None]]  # (reference field, target object or None when polymorphic)
    field: schema.Field
    getter: Callable[[dict], object]


def execute(store: Store, text: str, caller: Caller, include_deleted: bool) -> Result:
    select = soql.parse(text)
    return _Evaluator(store, text, caller, include_deleted).run(select)


class _Evaluator:
    def __init__(self, store: Store, text: str, caller: Caller, include_deleted: bool) -> None:
        self.store = store
        self.text = text
        self.caller = caller
        self.include_deleted = include_deleted
        self.url_prefix = f"/services/data/v{caller.version}/sobjects/"
        self.version_number = float(caller.version)

    # ---- objects and fields --------------------------------------------------------------------

    def error(self, code: str, detail: str, position: int) -> QueryError:
        return QueryError(code, detail, self.text, position)

    def object(self, name: str, position: int) -> schema.SObject:
        obj = schema.get_object(name)
        if obj is None or (obj.feature and not self.store.org.get(obj.feature)):
            raise self.error(
                "INVALID_TYPE", f"sObject type '{name}' is not supported. {_TYPE_SUFFIX}", position
            )
        access.check_read(self.caller.permissions, obj.name)
        return obj

    def resolve(self, obj: schema.SObject, path: FieldPath) -> Resolved:
        parts = list(path.parts)
        if len(parts) > 1 and parts[0].lower() == obj.name.lower() and obj.relationship(parts[0]) is None:
            parts = parts[1:]  # `User.Name FROM User`: the object name may prefix a path
        keys: list[str] = []
        hops: list[tuple[str, str | None]] = []
        current: schema.SObject | None = obj
        for part in parts[:-1]:
            if current is None:  # nothing can be traversed past a polymorphic `Name` pseudo-object
                raise self.error(
                    "INVALID_FIELD",
                    f"Didn't understand relationship '{part}' in field path. {_RELATIONSHIP_SUFFIX}",
                    path.pos,
                )
            reference = current.relationship(part)
            if (
                reference is None
                or reference.since > self.version_number
                or not any(t in schema.OBJECTS for t in reference.reference_to)
            ):
                raise self.error(
                    "INVALID_FIELD",
                    f"Didn't understand relationship '{part}' in field path. {_RELATIONSHIP_SUFFIX}",
                    path.pos,
                )
            keys.append(reference.relationship_name or part)
            if reference.polymorphic:
                hops.append((reference.name, None))
                current = None
            else:
                hops.append((reference.name, reference.reference_to[0]))
                current = schema.OBJECTS[reference.reference_to[0]]
        last = parts[-1]
        if current is None:
            canonical = schema.NAME_FIELDS_LOWER.get(last.lower())
            if canonical is None:
                raise self.error(
                    "INVALID_FIELD", f"No such column '{last}' on entity 'Name'. {_FIELD_SUFFIX}", path.pos
                )
            field = schema.Field(canonical, _NAME_TYPES.get(canonical, "string"))
        else:
            found = current.field(last, self.version_number)
            if found is None:
                raise self.error(
                    "INVALID_FIELD",
                    f"No such column '{last}' on entity '{current.name}'. {_FIELD_SUFFIX}",
                    path.pos,
                )
            field = found
        keys.append(field.name)
        return Resolved(keys, hops, field, self.getter(hops, field.name))

    def getter(self, hops: list[tuple[str, str | None]], name: str) -> Callable[[dict], object]:
        if not hops:
            return itemgetter(name)
        tables = self.store.tables
        steps = [(ref, tables[target] if target else None) for ref, target in hops]

        def get(record: dict) -> object:
            for ref, table in steps:
                target_id = record.get(ref)
                if target_id is None:
                    return None
                if table is None:
                    target_object = OBJECT_BY_PREFIX.get(target_id[:3])
                    table = tables.get(target_object) if target_object else None
                found = table.get(target_id) if table is not None else None
                if found is None:
                    return None
                record = found
            return record.get(name)

        return get

    # ---- running -------------------------------------------------------------------------------

    def run(self, select: soql.Select) -> Result:
        obj = self.object(select.object_name, select.object_pos)
        predicate = self.condition(obj, select.where) if select.where is not None else None
        records = self.candidates(obj, select.where)
        # A fresh list either way: the candidates may be the store's cached rows, and sorting is in place.
        records = [r for r in records if predicate(r)] if predicate is not None else list(records)
        if select.count_only:
            counted = len(records) if select.limit is None else min(len(records), select.limit)
            return Result(counted, [], True)
        if select.group_by or any(isinstance(item, soql.Count) for item in select.fields):
            return self.aggregate(obj, select, records)
        self.sort(obj, select.order, records)
        pageable = True
        if select.offset is not None:
            if select.offset > MAX_OFFSET:
                raise self.error(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"Maximum SOQL offset allowed is {MAX_OFFSET}",
                    select.offset_pos,
                )
            records = records[select.offset :]
            pageable = False
        if select.limit is not None:
            records = records[: select.limit]
        project = self.projection(obj, select.fields)
        return Result(len(records), [project(r) for r in records], pageable)

    def candidates(self, obj: schema.SObject, where: object) -> list[dict]:
        """Rows that can match, in Id order: an index lookup when the filter pins an id field, else all.

        Connectors run one query per group, permission set or territory (`WHERE GroupId = '...'`);
        without the index each would scan the whole table. The full predicate still runs afterwards.
        """
        if self.include_deleted and obj.soft_delete:
            return self.source(obj)
        conjuncts = where.items if isinstance(where, soql.BoolOp) and where.op == "AND" else [where]
        for node in conjuncts:
            if (
                not isinstance(node, soql.Comparison)
                or len(node.field.parts) != 1
                or node.op not in ("=", "IN")
            ):
                continue
            field = obj.field(node.field.parts[0], self.version_number)
            literals = node.value if isinstance(node.value, list) else [node.value]
            if field is None or field.type not in schema.ID_TYPES or isinstance(node.value, soql.Select):
                continue
            if any(not isinstance(lit, Literal) or lit.kind != "string" for lit in literals):
                continue
            keys = {to_18(str(lit.value)) for lit in literals}
            index = self.store.index(obj.name, field.name)
            rows = [row for key in keys if key for row in index.get(key, ())]
            return sorted(rows, key=itemgetter("Id")) if len(keys) > 1 else rows
        return self.source(obj)

    def source(self, obj: schema.SObject) -> list[dict]:
        """All rows of the object in Id order (stable, but not insertion order, like Salesforce)."""
        rows = self.store.rows_by_id(obj.name)
        if self.include_deleted and obj.soft_delete and self.store.deleted[obj.name]:
            deleted = self.store.deleted[obj.name]
            rows = sorted(rows + list(deleted.values()), key=itemgetter("Id"))
        return rows

    def sort(self, obj: schema.SObject, order: list[soql.OrderItem], records: list[dict]) -> None:
        by_id = len(order) == 1 and [p.lower() for p in order[0].field.parts] == ["id"]
        if by_id and not order[0].descending:
            return  # rows already come in Id order (and Id is never null)
        for item in reversed(order):
            resolved = self.resolve(obj, item.field)
            get = resolved.getter
            text = resolved.field.type in schema.TEXT_TYPES
            null_flag = 0 if (not item.nulls_last) != item.descending else 2

            def key(record: dict, get=get, text=text, null_flag=null_flag) -> tuple:
                value = get(record)
                if value is None:
                    return (null_flag, "")
                return (1, value.lower() if text else value)

            records.sort(key=key, reverse=item.descending)

    def aggregate(self, obj: schema.SObject, select: soql.Select, records: list[dict]) -> Result:
        """COUNT / COUNT_DISTINCT, optionally per GROUP BY group: AggregateResult rows, one per group."""
        grouped = [self.resolve(obj, path) for path in select.group_by]
        grouped_keys = {".".join(g.keys).lower() for g in grouped}
        columns: list[tuple[str, Callable[[list[dict]], object]]] = []
        expression = 0
        for item in select.fields:
            if isinstance(item, FieldPath):
                resolved = self.resolve(obj, item)
                if ".".join(resolved.keys).lower() not in grouped_keys:
                    raise self.error(
                        "MALFORMED_QUERY", f"Field must be grouped or aggregated: {item.text}", item.pos
                    )
                columns.append((resolved.field.name, lambda rows, get=resolved.getter: get(rows[0])))
            elif isinstance(item, soql.Count):
                columns.append((item.alias or f"expr{expression}", self.counter(obj, item)))
                expression += 1
            else:
                raise self.error(
                    "MALFORMED_QUERY",
                    "Nested queries are not supported in aggregate queries",
                    item.object_pos,
                )
        groups: dict[tuple, list[dict]] = {}
        for record in records:
            key = tuple(_group_value(g, record) for g in grouped)
            groups.setdefault(key, []).append(record)
        if not grouped:
            groups = {(): records}
        members = list(groups.values())
        self.sort_groups(obj, select.order, members)
        members = members[select.offset or 0 :]
        if select.limit is not None:
            members = members[: select.limit]
        rows = []
        for group in members:
            row: dict = {"attributes": {"type": "AggregateResult"}}
            for name, compute in columns:
                row[name] = compute(group)
            rows.append(row)
        return Result(len(rows), rows, True, aggregate=True)

    def counter(self, obj: schema.SObject, item: soql.Count) -> Callable[[list[dict]], int]:
        if item.field is None:
            return len
        get = self.resolve(obj, item.field).getter
        if item.distinct:
            return lambda rows: len({_fold(get(r)) for r in rows} - {None})
        return lambda rows: sum(1 for r in rows if get(r) is not None)

    def sort_groups(self, obj: schema.SObject, order: list[soql.OrderItem], groups: list[list[dict]]) -> None:
        """ORDER BY of an aggregate query: sort groups by their first rows (grouped fields agree within)."""
        if not order or len(groups) < 2:
            return
        firsts = [group[0] for group in groups]
        position = {id(first): index for index, first in enumerate(firsts)}
        ordered = list(firsts)
        self.sort(obj, order, ordered)
        rearranged = [groups[position[id(first)]] for first in ordered]
        groups[:] = rearranged

    # ---- projection ----------------------------------------------------------------------------

    def projection(self, obj: schema.SObject, items: list) -> Callable[[dict], dict]:
        tree: dict = {}
        seen: set[str] = set()
        for item in items:
            if isinstance(item, soql.Select):
                child_key, child_project = self.child_query(obj, item)
                tree[child_key] = ("child", child_project)
                continue
            resolved = self.resolve(obj, item)
            dotted = ".".join(resolved.keys).lower()
            if dotted in seen:
                raise self.error("MALFORMED_QUERY", f"duplicate field selected: {item.text}", item.pos)
            seen.add(dotted)
            node = tree
            for key, (ref, target) in zip(resolved.keys[:-1], resolved.hops, strict=True):
                entry = node.get(key)
                if entry is None:
                    entry = node[key] = ("rel", ref, target, {})
                node = entry[3]
            node[resolved.keys[-1]] = ("field",)
        return self.compile_node(obj.name, tree)

    def compile_node(self, type_name: str | None, tree: dict) -> Callable[[dict], dict]:
        """Build a function record -> output dict for one level of the projection tree."""
        url_prefix = self.url_prefix
        tables = self.store.tables
        plain = [key for key, entry in tree.items() if entry[0] == "field"]
        nested = []
        for key, entry in tree.items():
            if entry[0] == "rel":
                _, ref, target, subtree = entry
                nested.append((key, ref, target, self.compile_node(target, subtree)))
            elif entry[0] == "child":
                nested.append((key, None, None, entry[1]))
        order = list(tree)

        if type_name is not None and not nested:
            object_url = f"{url_prefix}{type_name}/"

            def project_flat(record: dict) -> dict:
                out = {"attributes": {"type": type_name, "url": object_url + record["Id"]}}
                for key in plain:
                    out[key] = record.get(key)
                return out

            return project_flat

        def project(record: dict) -> dict:
            if type_name is None:  # polymorphic: type reads `Name`, the url names the real object
                real = OBJECT_BY_PREFIX.get(record["Id"][:3], "Name")
                attributes = {"type": "Name", "url": f"{url_prefix}{real}/{record['Id']}"}
            else:
                attributes = {"type": type_name, "url": f"{url_prefix}{type_name}/{record['Id']}"}
            out: dict = {"attributes": attributes}
            values: dict = {}
            for key in plain:
                values[key] = record.get(key)
            for key, ref, target, sub in nested:
                if ref is None:
                    values[key] = sub(record)
                    continue
                target_id = record.get(ref)
                parent = None
                if target_id is not None:
                    table = tables.get(target or OBJECT_BY_PREFIX.get(target_id[:3], ""))
                    parent = table.get(target_id) if table is not None else None
                values[key] = sub(parent) if parent is not None else None
            for key in order:
                out[key] = values[key]
            return out

        return project

    def child_query(
        self, parent: schema.SObject, sub: soql.Select
    ) -> tuple[str, Callable[[dict], dict | None]]:
        relation = next(
            (
                r
                for r in schema.CHILD_RELATIONSHIPS
                if r[0] == parent.name and r[1].lower() == sub.object_name.lower()
            ),
            None,
        )
        if relation is None:
            raise self.error(
                "INVALID_TYPE",
                f"Didn't understand relationship '{sub.object_name}' in FROM part of "
                f"query call. {_RELATIONSHIP_SUFFIX}",
                sub.object_pos,
            )
        _, key, child_name, child_field = relation
        child = self.object(child_name, sub.object_pos)
        predicate = self.condition(child, sub.where) if sub.where is not None else None
        project = self.projection(child, sub.fields)
        buckets: dict[str, list[dict]] = {}
        for record in self.source(child):
            if predicate is None or predicate(record):
                buckets.setdefault(record.get(child_field), []).append(record)
        for rows in buckets.values():
            self.sort(child, sub.order, rows)

        def children(record: dict) -> dict | None:
            rows = buckets.get(record["Id"])
            if not rows:
                return None
            rows = rows[: sub.limit] if sub.limit is not None else rows
            return {"totalSize": len(rows), "done": True, "records": [project(r) for r in rows]}

        return key, children

    # ---- WHERE ---------------------------------------------------------------------------------

    def condition(self, obj: schema.SObject, node: object) -> Callable[[dict], bool]:
        if isinstance(node, soql.BoolOp):
            parts = [self.condition(obj, item) for item in node.items]
            if node.op == "AND":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(node, soql.Not):
            inner = self.condition(obj, node.item)
            return lambda r: not inner(r)
        assert isinstance(node, soql.Comparison)
        return self.comparison(obj, node)

    def comparison(self, obj: schema.SObject, node: soql.Comparison) -> Callable[[dict], bool]:
        resolved = self.resolve(obj, node.field)
        get, field = resolved.getter, resolved.field
        if isinstance(node.value, soql.Select):
            return self.semi_join(obj, node, resolved)
        if isinstance(node.value, list):
            values = {self.operand(field, literal) for literal in node.value}
            if field.type in schema.TEXT_TYPES:
                values = {v.lower() if isinstance(v, str) else v for v in values}
                if node.op == "IN":
                    return lambda r: (v := get(r)) is not None and v.lower() in values
                return lambda r: (v := get(r)) is None or v.lower() not in values
            if node.op == "IN":
                return lambda r: get(r) in values
            return lambda r: get(r) not in values
        literal = node.value
        if node.op == "LIKE":
            if field.type not in schema.TEXT_TYPES and field.type not in schema.ID_TYPES:
                raise self.error("INVALID_FIELD", f"invalid operator on field: {field.name}", node.pos)
            pattern = _like_regex(str(literal.value))
            return lambda r: (v := get(r)) is not None and pattern.match(v) is not None
        if literal.kind == "date_literal":
            return self.date_range(field, node, get)
        value = self.operand(field, literal)
        return _compare(node.op, value, get, field)

    def semi_join(
        self, obj: schema.SObject, node: soql.Comparison, resolved: Resolved
    ) -> Callable[[dict], bool]:
        sub = node.value
        assert isinstance(sub, soql.Select)
        if resolved.field.type not in schema.ID_TYPES:
            raise self.error(
                "INVALID_FIELD",
                f"Invalid semi join: field '{resolved.field.name}' must be an id or reference field",
                node.field.pos,
            )
        if len(sub.fields) != 1 or not isinstance(sub.fields[0], FieldPath):
            raise self.error(
                "MALFORMED_QUERY",
                "The inner select field must be a single Id or reference field",
                sub.object_pos,
            )
        inner = self.object(sub.object_name, sub.object_pos)
        inner_field = self.resolve(inner, sub.fields[0])
        if inner_field.field.type not in schema.ID_TYPES:
            raise self.error(
                "INVALID_FIELD",
                f"Invalid semi join: field '{inner_field.field.name}' must be an id or reference field",
                sub.fields[0].pos,
            )
        predicate = self.condition(inner, sub.where) if sub.where is not None else None
        ids = {inner_field.getter(r) for r in self.source(inner) if predicate is None or predicate(r)}
        ids.discard(None)
        get = resolved.getter
        if node.op == "IN":
            return lambda r: get(r) in ids
        return lambda r: get(r) not in ids

    def operand(self, field: schema.Field, literal: Literal) -> object:
        """The stored-form value a literal stands for, or the type error Salesforce gives."""
        kind, value = literal.kind, literal.value
        if kind == "null":
            return None
        expected = field.type
        if expected in schema.ID_TYPES:
            if kind != "string":
                raise self.type_error(field, "id", literal, quoted=True)
            widened = to_18(str(value))
            if widened is None:
                raise self.error("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {value}", literal.pos)
            return widened
        if expected in schema.TEXT_TYPES:
            if kind != "string":
                raise self.type_error(field, "string", literal, quoted=True)
            return str(value).replace(soql.LIKE_ESCAPE, "")
        if expected == "boolean":
            if kind != "boolean":
                raise self.type_error(field, "boolean", literal, quoted=False)
            return value
        if expected in ("int", "double"):
            if kind != "number":
                raise self.type_error(field, "number", literal, quoted=False)
            return value
        if expected == "datetime":
            if kind != "datetime":
                raise self.type_error(field, "dateTime", literal, quoted=False)
            return format_datetime(parse_datetime(str(value)))  # type: ignore[arg-type]
        if expected == "date":
            if kind != "date":
                raise self.type_error(field, "date", literal, quoted=False)
            return value
        return value

    def type_error(self, field: schema.Field, type_name: str, literal: Literal, quoted: bool) -> QueryError:
        hint = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return self.error(
            "INVALID_FIELD",
            f"value of filter criterion for field '{field.name}' must be of type {type_name} and {hint}",
            literal.pos,
        )

    def date_range(self, field: schema.Field, node: soql.Comparison, get: Callable) -> Callable[[dict], bool]:
        literal = node.value
        assert isinstance(literal, Literal)
        if field.type not in ("date", "datetime"):
            raise self.type_error(field, field.type, literal, quoted=False)
        name, amount = literal.value  # type: ignore[misc]
        start, end = _date_literal_range(name, amount)
        if field.type == "date":
            low, high = start.isoformat(), end.isoformat()
        else:
            low = format_datetime(datetime(start.year, start.month, start.day, tzinfo=UTC))
            high = format_datetime(datetime(end.year, end.month, end.day, tzinfo=UTC))
        tests = {
            "=": lambda v: low <= v < high,
            "!=": lambda v: not (low <= v < high),
            "<": lambda v: v < low,
            "<=": lambda v: v < high,
            ">": lambda v: v >= high,
            ">=": lambda v: v >= low,
        }
        test = tests[node.op]
        return lambda r: (v := get(r)) is not None and test(v)


def _compare(
    op: str, value: object, get: Callable[[dict], object], field: schema.Field
) -> Callable[[dict], bool]:
    if value is None:
        if field.type == "boolean":  # on booleans, null means false
            return (lambda r: not get(r)) if op == "=" else (lambda r: bool(get(r)))
        if op == "=":
            return lambda r: get(r) is None
        if op == "!=":
            return lambda r: get(r) is not None
        return lambda r: False
    if field.type in schema.TEXT_TYPES:
        lowered = str(value).lower()
        simple = {
            "=": lambda r: (v := get(r)) is not None and v.lower() == lowered,
            "!=": lambda r: (v := get(r)) is None or v.lower() != lowered,
            "<": lambda r: (v := get(r)) is not None and v.lower() < lowered,
            "<=": lambda r: (v := get(r)) is not None and v.lower() <= lowered,
            ">": lambda r: (v := get(r)) is not None and v.lower() > lowered,
            ">=": lambda r: (v := get(r)) is not None and v.lower() >= lowered,
        }
        return simple[op]
    comparisons = {
        "=": lambda r: get(r) == value,
        "!=": lambda r: get(r) != value,
        "<": lambda r: (v := get(r)) is not None and v < value,
        "<=": lambda r: (v := get(r)) is not None and v <= value,
        ">": lambda r: (v := get(r)) is not None and v > value,
        ">=": lambda r: (v := get(r)) is not None and v >= value,
    }
    return comparisons[op]


def _fold(value: object) -> object:
    """Text groups and distinct counts ignore case, as Salesforce's do."""
    return value.lower() if isinstance(value, str) else value


def _group_value(resolved: Resolved, record: dict) -> object:
    value = resolved.getter(record)
    return _fold(value) if resolved.field.type in schema.TEXT_TYPES else value


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == soql.LIKE_ESCAPE and position + 1 < len(pattern):
            out.append(re.escape(pattern[position + 1]))
            position += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        position += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL)


def _date_literal_range(name: str, amount: int) -> tuple[date, date]:
    """[start, end) in UTC days for a SOQL date literal; an N past the calendar's ends stops at them."""
    try:
        return _calendar_range(name, amount)
    except (OverflowError, ValueError):  # LAST_N_DAYS:100000000 and the like
        # The near end is the same for every N; the far one is the calendar's.
        near_start, near_end = _calendar_range(name, 1)
        if name.startswith("NEXT"):
            return near_start, date.max
        if name.startswith("LAST"):
            return date.min, near_end
        return date.min, date.min  # N_DAYS_AGO before year 1: no day matches


def _calendar_range(name: str, amount: int) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    day = timedelta(days=1)
    if name == "TODAY":
        return today, today + day
    if name == "YESTERDAY":
        return today - day, today
    if name == "TOMORROW":
        return today + day, today + 2 * day
    if name == "LAST_N_DAYS":
        return today - amount * day, today + day
    if name == "NEXT_N_DAYS":
        return today + day, today + (amount + 1) * day
    if name == "N_DAYS_AGO":
        return today - amount * day, today - (amount - 1) * day
    if name == "LAST_90_DAYS":
        return today - 90 * day, today + day
    if name == "NEXT_90_DAYS":
        return today + day, today + 91 * day
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday
    if name in ("THIS_WEEK", "LAST_WEEK", "NEXT_WEEK"):
        shift = {"THIS_WEEK": 0, "LAST_WEEK": -7, "NEXT_WEEK": 7}[name]
        start = week_start + timedelta(days=shift)
        return start, start + 7 * day
    if name in ("THIS_MONTH", "LAST_MONTH", "NEXT_MONTH", "LAST_N_MONTHS", "NEXT_N_MONTHS"):
        month_index = today.year * 12 + today.month - 1
        first, count = {
            "THIS_MONTH": (0, 1),
            "LAST_MONTH": (-1, 1),
            "NEXT_MONTH": (1, 1),
            "LAST_N_MONTHS": (-amount, amount),
            "NEXT_N_MONTHS": (1, amount),
        }[name]
        return _month_start(month_index + first), _month_start(month_index + first + count)
    shift = {"THIS_YEAR": 0, "LAST_YEAR": -1, "NEXT_YEAR": 1}[name]
    return date(today.year + shift, 1, 1), date(today.year + shift + 1, 1, 1)


def _month_start(month_index: int) -> date:
    year, month = divmod(month_index, 12)
    calendar.monthrange(year, month + 1)
    return date(year, month + 1, 1)
