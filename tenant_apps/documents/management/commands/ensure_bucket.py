"""Create the documents bucket if it does not exist (development and first deployment)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenant_apps.documents.services import documents_storage


class Command(BaseCommand):
    help = "Create the object-storage bucket for documents (AWS_STORAGE_BUCKET_NAME) if it is missing."

    def handle(self, *args, **options):
        storage = documents_storage()
        client = storage.connection.meta.client
        bucket = storage.bucket_name
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise CommandError(f"bucket {bucket!r}: {exc}") from None
        except BotoCoreError as exc:
            raise CommandError(f"object storage unreachable ({settings.AWS_S3_ENDPOINT_URL or 'AWS'}): {exc}") from None
        else:
            self.stdout.write(f"Bucket {bucket!r} exists.")
            return
        params = {"Bucket": bucket}
        region = storage.region_name or settings.AWS_S3_REGION_NAME
        if region and region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            client.create_bucket(**params)
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"could not create bucket {bucket!r}: {exc}") from None
        self.stdout.write(f"Bucket {bucket!r} created.")
