"""The report's charts as inline SVG drawn by matplotlib: bar charts over counts the page computed.

Labels are outlet hosts and wire names, which come from scraped pages: matplotlib writes them as escaped
SVG text, and math parsing is off so a `$` in a label is just a dollar sign."""
from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("svg")
from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)

_RC = {"svg.fonttype": "none", "svg.hashsalt": "wirecrawl", "text.parse_math": False, "font.size": 9,
       "axes.spines.top": False, "axes.spines.right": False}
_PROLOG = re.compile(r"\A.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
COLOUR = "#3b6ea5"


def bars(name: str, labels: Sequence[str], values: Sequence[int], xlabel: str, ylabel: str,
         horizontal: bool = False) -> str:
    """One bar chart as an `<svg>` element whose ids are prefixed with `name`, so charts share a page."""
    with matplotlib.rc_context(_RC):
        height = max(2.4, 0.28 * len(labels) + 0.8) if horizontal else 2.6
        fig = Figure(figsize=(5.2, height))
        ax = fig.subplots()
        if horizontal:
            ax.barh(range(len(labels)), values, color=COLOUR)
            ax.set_yticks(range(len(labels)), labels)
            ax.invert_yaxis()
            ax.set_xlabel(xlabel)
        else:
            ax.bar(range(len(labels)), values, color=COLOUR, width=0.7)
            ax.set_xlim(-0.6, max(len(labels), 4) - 0.4)  # one or two bars stay bar-shaped
            ax.set_xticks(range(len(labels)), labels)
            if sum(map(len, labels)) > 30:
                ax.tick_params(axis="x", labelrotation=35)
                for tick in ax.get_xticklabels():
                    tick.set_horizontalalignment("right")
                    tick.set_rotation_mode("anchor")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
        ax.xaxis.get_major_locator().set_params(integer=True) if horizontal else \
            ax.yaxis.get_major_locator().set_params(integer=True)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = _METADATA.sub("", _PROLOG.sub("", buf.getvalue()))
    svg = svg.replace('id="', f'id="{name}-').replace("url(#", f"url(#{name}-").replace('href="#', f'href="#{name}-')
    return svg.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)
