"""Security notices for passkeys: one added, one removed (a choice only: no change to the table)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_read_limits"),
    ]

    operations = [
        migrations.AlterField(
            model_name="securitynotice",
            name="change",
            field=models.CharField(
                choices=[
                    ("authenticator_replaced", "Your authenticator app was replaced"),
                    ("authenticator_enrolled", "A new authenticator app was set up"),
                    ("backup_codes_regenerated", "Your backup codes were replaced"),
                    ("password_changed", "Your password was changed"),
                    ("second_factor_reset", "Your second factor was reset by a partnership admin"),
                    ("passkey_added", "A passkey was added"),
                    ("passkey_removed", "A passkey was removed"),
                ],
                max_length=32,
            ),
        ),
    ]
