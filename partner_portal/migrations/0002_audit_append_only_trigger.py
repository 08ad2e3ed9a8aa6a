"""On PostgreSQL, refuse UPDATE and DELETE of audit events in the database itself."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION partner_portal_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER partner_portal_auditevent_append_only
    BEFORE UPDATE OR DELETE ON partner_portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION partner_portal_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS partner_portal_auditevent_append_only ON partner_portal_auditevent;
DROP FUNCTION IF EXISTS partner_portal_audit_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("partner_portal", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
