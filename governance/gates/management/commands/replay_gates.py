from django.core.management.base import BaseCommand, CommandError

from governance.approvals.models import PromotionRequest
from governance.gates.replay import replay_request


class Command(BaseCommand):
    help = "Recompute a request's gates from their stored inputs; report identical or the differences."

    def add_arguments(self, parser):
        parser.add_argument("request_id", type=int)

    def handle(self, *args, request_id, **options):
        request = PromotionRequest.objects.filter(pk=request_id).select_related("version__model").first()
        if request is None:
            raise CommandError(f"no promotion request {request_id}")
        report = replay_request(request)
        for line in report.lines:
            self.stdout.write(line)
        if not report.identical:
            raise CommandError(f"request {request_id}: {report.differences} gate(s) differ from the stored outcome")
        self.stdout.write(f"identical: {report.compared} gate(s) of request {request_id} recomputed from stored inputs")
