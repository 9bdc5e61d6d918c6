"""The ``serve`` and ``reviews`` commands: their arguments and what they print (the top-level
``evaltools`` parser adds them with :func:`add_commands`)."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from evaltools.cli.console import err, out, styled
from evaltools.domain.reviews import CHANGED, COLUMNS, PASSED, RETURNED, ReviewError, review_rows
from evaltools.domain.yamlio import ParamsError

STYLES = {PASSED: "green", RETURNED: "red", CHANGED: "yellow"}


def add_commands(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="在浏览器中打开一个年度：报告随参数文件的保存自动更新；评审人员在页面上记录决定")
    serve.add_argument("path", nargs="?", default=".", metavar="路径",
                       help="工作区（含 params/）、年度文件夹（params/2024）或部门文件夹；默认当前文件夹")
    serve.add_argument("--port", type=int, default=None, metavar="端口", help="端口（默认 8765，被占用时顺延）")
    serve.add_argument("--host", default="127.0.0.1", metavar="地址",
                       help="监听地址（默认 127.0.0.1，只有本机可访问；如 0.0.0.0 则在网络上监听，记录决定需要令牌）")
    serve.add_argument("--reviewer", default="", metavar="姓名", help="审核人姓名，预先填入决定表单")
    serve.set_defaults(run=cmd_serve)

    reviews = commands.add_parser("reviews", help="列出评审决定（通过、退回修改、待审，及报告改动后的“已修改，待复审”）")
    reviews.add_argument("path", nargs="?", default=".", metavar="路径",
                         help="工作区、年度文件夹、部门文件夹或 reviews/<年度>.yaml；默认当前文件夹")
    reviews.add_argument("--json", action="store_true", help="以 JSON 输出，供程序读取")
    reviews.set_defaults(run=cmd_reviews)


def cmd_serve(args: argparse.Namespace) -> int:
    from evaltools.run.serve.server import ServeError, serve  # uvicorn and the exporters: for this command only

    try:
        serve(args.path, args.host, args.port, args.reviewer, say=out.print)
    except ServeError as exc:
        err.print(styled("[red]错误[/red] {}", exc), soft_wrap=True)
        return 1
    return 0


def cmd_reviews(args: argparse.Namespace) -> int:
    try:
        rows = review_rows(args.path)
    except ReviewError as exc:
        err.print(styled("[red]错误[/red] {}", exc), soft_wrap=True)
        return 1
    except ParamsError as exc:
        for problem in exc.problems:
            err.print(styled("[red]错误[/red] {}", problem), soft_wrap=True)
        return 1
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        out.print("还没有评审决定")
        return 0
    table = Table(*(COLUMNS[k] for k in ("year", "report", "name", "status", "reviewer", "time", "comment")))
    table.columns[-1].overflow = "fold"  # a comment is read whole
    for row in rows:
        style = STYLES.get(row["status"], "")
        table.add_row(str(row["year"]), row["report"], row["name"], styled(f"[{style}]{{}}[/{style}]", row["status"]) if style
                      else row["status"], row["reviewer"], row["time"], row["comment"])
    out.print(table)
    counted = {status: sum(r["status"] == status for r in rows) for status in dict.fromkeys(r["status"] for r in rows)}
    out.print("，".join(f"{status} {n} 个" for status, n in counted.items()))
    return 0
