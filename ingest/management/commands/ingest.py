import json
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ingest.loader import DumpLoader, expand_paths
from ingest.parser import DumpError


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r}: expected YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Ingest live-ticker text dumps (files, directories searched for *.txt, or globs)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--date", help="date (YYYY-MM-DD) of the newest entry, for dumps without a page date line")
        parser.add_argument("--ticker", help="ticker title, for dumps without one")
        parser.add_argument("--dry-run", action="store_true", help="parse only; write nothing")
        parser.add_argument("--json", action="store_true", help="print the summary (or with --dry-run the parse) as JSON")
        parser.add_argument("--force", action="store_true", help="re-read dumps that were ingested before")
        parser.add_argument("--no-link", action="store_true", help="do not link entries to places and people (relink later)")

    def handle(self, *args, **options):
        loader = DumpLoader(
            default_date=parse_date(options["date"]) if options["date"] else None,
            ticker_title=options["ticker"],
            force=options["force"],
            link=not options["no_link"],
        )
        files, missing = expand_paths(options["paths"])
        failed = [{"path": path, "error": error} for path, error in missing]
        def progress(items):
            return tqdm(items, total=len(files), unit="file", file=sys.stderr,
                        disable=options["json"] or not sys.stderr.isatty())

        if options["dry_run"]:
            report = self._dry_run(loader, progress(files), failed)
        else:
            report = self._ingest(progress(loader.load_many(files)), failed)
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            self._print_summary(report, dry_run=options["dry_run"])
        if failed:
            sys.exit(1)

    @staticmethod
    def _dry_run(loader, files, failed) -> dict:
        parsed_files = []
        for path in files:
            try:
                parsed = loader.parse(path)
            except DumpError as err:
                failed.append({"path": str(path), "error": str(err)})
                continue
            for problem in parsed.missing:
                failed.append({"path": str(path), "error": f"{path}: {problem}"})
            parsed_files.append({
                "path": str(path),
                "sha256": parsed.sha256,
                "encoding": parsed.encoding,
                "ticker": {"title": parsed.title, "section": parsed.section},
                "page_datetime": parsed.page_datetime.isoformat() if parsed.page_datetime else None,
                "entries": [
                    {
                        "published_at": e.published_at.isoformat() if e.published_at else None,
                        "time": e.time_text,
                        "headline": e.headline,
                        "body": e.body,
                        "images": [p.as_dict() for p in e.pictures],
                        "line": e.line,
                    }
                    for e in parsed.entries
                ],
                "footer": parsed.footer,
                "warnings": [w.as_dict() for w in parsed.warnings],
                "unparsed_lines": [u.as_dict() for u in parsed.unparsed_lines],
            })
        return {"files": parsed_files, "failed": failed}

    @staticmethod
    def _ingest(results, failed) -> dict:
        report = {
            "files": 0, "files_loaded": 0, "files_unchanged": 0,
            "entries_created": 0, "entries_updated": 0, "entries_unchanged": 0,
            "entries_skipped": 0, "failed": failed, "warnings": [],
        }
        for result in results:
            report["files"] += 1
            report["warnings"].extend({"path": result.path, **w} for w in result.warnings)
            if result.error:
                failed.append({"path": result.path, "error": result.error})
                continue
            report[f"files_{result.status}"] += 1
            report["entries_created"] += result.created
            report["entries_updated"] += result.updated
            report["entries_unchanged"] += result.unchanged
            report["entries_skipped"] += result.skipped
        return report

    def _print_summary(self, report: dict, *, dry_run: bool) -> None:
        if dry_run:
            for f in report["files"]:
                self.stdout.write(f"{f['path']}: {f['ticker']['title']} — {len(f['entries'])} entries")
                for w in f["warnings"]:
                    self.stderr.write(f"{f['path']}:{w['line'] or ''}: warning: {w['message']}")
                for u in f["unparsed_lines"]:
                    self.stderr.write(f"{f['path']}:{u['line']}: unparsed: {u['reason']}")
        else:
            for w in report["warnings"]:
                self.stderr.write(f"{w['path']}:{w['line'] or ''}: warning: {w['message']}")
            failed_files = report["files"] - report["files_loaded"] - report["files_unchanged"]
            self.stdout.write(
                f"{report['files']} files: {report['files_loaded']} loaded, {report['files_unchanged']} unchanged "
                f"(ingested before), {failed_files} failed; entries: {report['entries_created']} created, "
                f"{report['entries_updated']} updated, {report['entries_unchanged']} unchanged"
                + (f", {report['entries_skipped']} deleted by editors (not restored)" if report["entries_skipped"] else "")
            )
        for f in report["failed"]:
            self.stderr.write(self.style.ERROR(f"FAILED {f['path']}: {f['error']}"))
