"""attachments (content-addressed blobs, and the files users gave with their messages) and
each user's default chat settings (their last choices)

Revision ID: 0005_attachments_defaults
Revises: 0004_reply_lease
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision: str = '0005_attachments_defaults'
down_revision: Union[str, Sequence[str], None] = '0004_reply_lease'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'attachment_blob',
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    op.create_table(
        'attachment',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('thumb_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['message.id']),
        sa.ForeignKeyConstraint(['sha256'], ['attachment_blob.sha256']),
        sa.ForeignKeyConstraint(['thumb_sha256'], ['attachment_blob.sha256']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_attachment_owner', 'attachment', ['owner'], unique=False)
    op.create_index('ix_attachment_sha256', 'attachment', ['sha256'], unique=False)
    op.create_index('ix_attachment_message_id', 'attachment', ['message_id'], unique=False)
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('default_model', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column('default_max_output_tokens', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('default_thinking_budget', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('default_thinking_budget')
        batch_op.drop_column('default_max_output_tokens')
        batch_op.drop_column('default_model')
    op.drop_index('ix_attachment_message_id', table_name='attachment')
    op.drop_index('ix_attachment_sha256', table_name='attachment')
    op.drop_index('ix_attachment_owner', table_name='attachment')
    op.drop_table('attachment')
    op.drop_table('attachment_blob')
