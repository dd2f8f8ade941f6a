"""The schema diff behind spec migrations (generator/targets/schema_diff.py), case by case.

The end-to-end proof (databases upgraded and downgraded with their data) is
tests/test_spec_migrations.py; here each kind of change is checked for what it turns
into: a rename, an add, a refusal with the right code, an irreversible step.
"""

from __future__ import annotations

import pytest

from generator.ir import build_ir
from generator.targets.schema_diff import diff_schemas, schema_equal
from generator.targets.schema_snapshot import schema_of

BASE = """\
keel: 1
app: {name: shop, title: Shop, version: "1.0.0"}
entities:
  Customer:
    permissions: {all: "true"}
    fields:
      name: {type: string, max_length: 100}
  Order:
    permissions: {all: "true"}
    fields:
      customer: {type: ref, to: Customer, on_delete: cascade}
      total: {type: decimal, precision: 10, scale: 2}
      note: text?
"""


@pytest.fixture
def schema(validate):
    def build(text: str) -> dict:
        result = validate(text)
        assert result.ok, result.diagnostics
        return schema_of(build_ir(result.spec, result.source_map, result.root))

    return build


def _up(diff) -> str:
    return "\n".join(line for step in diff.steps for line in step.up)


def test_an_unchanged_spec_has_no_difference(schema):
    assert schema_equal(schema(BASE), schema(BASE))
    assert diff_schemas(schema(BASE), schema(BASE)).empty


def test_a_renamed_reference_renames_its_key_column_and_constraints(schema):
    old = schema(BASE)
    new = schema(BASE.replace("      customer: {type: ref,", "      buyer: {type: ref, renamed_from: customer,"))
    diff = diff_schemas(old, new)
    assert not diff.losses and not diff.blockers
    up = _up(diff)
    assert "op.alter_column('orders', 'customer_id', new_column_name='buyer_id')" in up
    assert "drop_constraint(op.f('fk_orders_customer_id_customers')" in up
    assert "create_foreign_key(op.f('fk_orders_buyer_id_customers')" in up
    assert "drop_column" not in up and all(step.down is not None for step in diff.steps)


def test_a_renamed_entity_renames_its_table_and_the_keys_that_point_at_it(schema):
    old = schema(BASE)
    new = schema(BASE.replace("  Customer:\n", "  Client:\n    renamed_from: Customer\n")
                 .replace("to: Customer", "to: Client"))
    diff = diff_schemas(old, new)
    assert not diff.losses and not diff.blockers
    up = _up(diff)
    assert "op.rename_table('customers', 'clients')" in up
    assert "create_foreign_key(op.f('fk_orders_customer_id_clients'), 'clients'" in up
    assert 'RENAME CONSTRAINT "pk_customers" TO "pk_clients"' in up  # PostgreSQL only, in the revision
    assert "drop_table" not in up and "create_table" not in up


@pytest.mark.parametrize("edit,what", [
    (("      note: text?\n", ""), "column `orders.note` is no longer in the spec"),
    (("name: {type: string, max_length: 100}", "name: {type: string, max_length: 50}"), "String(100) to String(50)"),
    (("precision: 10, scale: 2", "precision: 10, scale: 4"), "Numeric(10, 2"),
    (("name: {type: string, max_length: 100}", "name: text"), None),  # widening: no loss
    (("precision: 10, scale: 2", "precision: 12, scale: 3"), None),
])
def test_changes_that_may_lose_data_are_losses(schema, edit, what):
    diff = diff_schemas(schema(BASE), schema(BASE.replace(*edit)))
    if what is None:
        assert diff.losses == [] and not diff.empty
    else:
        assert [loss.code for loss in diff.losses] == ["K701"]
        assert what in diff.losses[0].message


def test_a_dropped_entity_is_a_loss_and_cannot_be_downgraded(schema):
    spec = BASE.replace("      customer: {type: ref, to: Customer, on_delete: cascade}\n", "")
    old = schema(spec)
    new = schema(spec.split("  Order:")[0])
    diff = diff_schemas(old, new)
    assert [loss.code for loss in diff.losses] == ["K701"] and "`orders`" in diff.losses[0].message
    assert [step.down for step in diff.steps if "drop table" in step.what] == [None]


def test_a_new_required_field_needs_a_default_and_gets_it_on_existing_rows(schema):
    diff = diff_schemas(schema(BASE), schema(BASE.replace("      note: text?\n", "      note: text?\n"
                                                          "      paid: boolean\n")))
    assert [(b.code, b.source.split(":")[0]) for b in diff.blockers] == [("K702", "keel.yaml")]
    diff = diff_schemas(schema(BASE), schema(BASE.replace("      note: text?\n", "      note: text?\n"
                                                          "      paid: {type: boolean, default: false}\n")))
    assert not diff.blockers and not diff.losses
    up = _up(diff)
    assert "sa.Column('paid', sa.Boolean(), nullable=True)" in up  # added empty, filled, then required
    assert ".values({'paid': False})" in up and "alter_column('paid', existing_type=sa.Boolean(), nullable=False)" in up


def test_a_new_entity_is_created_after_the_tables_it_references(schema):
    new = schema(BASE + "  Line:\n    permissions: {all: \"true\"}\n    fields:\n"
                 "      order: {type: ref, to: Order, on_delete: cascade}\n      qty: {type: integer, default: 1}\n")
    diff = diff_schemas(schema(BASE), new)
    assert [step.what for step in diff.steps] == ["create table lines"]
    assert "sa.ForeignKeyConstraint(['order_id'], ['orders.id']" in _up(diff)
    assert diff.steps[0].down[-1] == "op.drop_table('lines')"
    assert "op.drop_index(op.f('ix_lines_order_id'), table_name='lines')" in diff.steps[0].down


def test_how_keel_spells_a_type_is_not_a_schema_change(schema):
    """A snapshot written by a Keel that quoted a type differently (`'sqlite'` / `"sqlite"`) is the same schema."""
    old = schema(BASE)
    respelled = {name: {**table, "columns": [{**c, "type": c["type"].replace('"', "'").replace("(", "( ")}
                                             for c in table["columns"]]}
                 for name, table in old.items()}
    assert any(c["type"] != d["type"] for t in old for c, d in zip(old[t]["columns"], respelled[t]["columns"]))
    assert schema_equal(respelled, old) and diff_schemas(respelled, old).empty
