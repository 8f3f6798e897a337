"""versions: each message names the one before it on its branch (parent_id), and the
version shown among its siblings (active); Regenerate and Edit add siblings instead of
deleting what they replace

Revision ID: 0006_versions
Revises: 0005_attachments_defaults
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision: str = '0006_versions'
down_revision: Union[str, Sequence[str], None] = '0005_attachments_defaults'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Every conversation so far is one branch: each message's parent is the one before it.
# LAG and UPDATE ... FROM work on PostgreSQL and on SQLite >= 3.33; one pass over the table.
_LINK_EXISTING = sa.text(
    "UPDATE message SET parent_id = previous.prev_id "
    "FROM (SELECT id, LAG(id) OVER (PARTITION BY conversation_id ORDER BY seq) AS prev_id "
    "FROM message) AS previous "
    "WHERE previous.id = message.id AND previous.prev_id IS NOT NULL"
)


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_index(
        'ix_message_parent', 'message', ['conversation_id', 'parent_id'], unique=False
    )
    # Partial: only versions not shown are in it (none in a conversation without versions).
    op.create_index(
        'ix_message_inactive',
        'message',
        ['conversation_id'],
        unique=False,
        sqlite_where=sa.text('NOT active'),
        postgresql_where=sa.text('NOT active'),
    )
    op.execute(_LINK_EXISTING)


def downgrade() -> None:
    # Nothing is deleted: the old schema shows every version, in the order they were made.
    op.drop_index('ix_message_inactive', table_name='message')
    op.drop_index('ix_message_parent', table_name='message')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('active')
        batch_op.drop_column('parent_id')
