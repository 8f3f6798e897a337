"""reply lease: the assistant row is written when its turn starts, with a lease its worker
renews; an expired lease means the worker is gone (the reply is stored as interrupted)

Revision ID: 0004_reply_lease
Revises: 0003_accounts
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0004_reply_lease'
down_revision: Union[str, Sequence[str], None] = '0003_accounts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
    # Partial: only replies in flight are in it.
    op.create_index(
        'ix_message_lease_until',
        'message',
        ['lease_until'],
        unique=False,
        sqlite_where=sa.text('lease_until IS NOT NULL'),
        postgresql_where=sa.text('lease_until IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_message_lease_until', table_name='message')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
