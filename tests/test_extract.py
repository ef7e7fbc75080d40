"""Which of trafilatura's modes extracts a page: fast mode first, the full comparison (readability, jusText)
where fast mode is known to keep the wrong block."""
from __future__ import annotations

import trafilatura

from pipelines.article import process_page
from pipelines.model import Article, Page, RawRef
from pipelines.options import ExtractOptions

PARAGRAPHS = [
    "В четверг в Заречье после двух лет строительства открыли новый автомобильный мост через реку. Его длина "
    "составляет почти четыреста метров, а по обе стороны устроены широкие тротуары для пешеходов.",
    "На церемонии открытия глава района сказал, что мост сократит дорогу до центра города на двадцать минут. "
    "Раньше жителям приходилось объезжать реку по старой дамбе, которая в часы пик была перегружена.",
    "Строительство обошлось бюджету области дороже, чем планировалось: подрядчик дважды переносил сроки из-за "
    "паводков. Проверка, начатая прокуратурой прошлой осенью, нарушений не выявила.",
    "Движение общественного транспорта по мосту начнётся с понедельника. Перевозчик обещает пустить по новому "
    "маршруту десять автобусов, которые будут ходить каждые пятнадцать минут.",
]
CHROME = ["Политика", "Экономика", "Спорт", "31,42", "Опрос недели", "Все права защищены"]


def _box(cls: str, rows: list[str]) -> str:
    return f'<table width="100%" class="{cls}">' + "".join(f"<tr><td>{r}</td></tr>" for r in rows) + "</table>"


def table_layout(tables: int) -> str:
    """A 2009 portal: every column and box a table of its own (`tables` of them, at least 7), the body's
    paragraphs separated by <br> in one cell of the middle column."""
    boxes = [_box("menu", [f'<a href="/{s}/">{s}</a>' for s in CHROME[:3]]),
             _box("rates", ["USD 31,42", "EUR 42,77"]),
             _box("poll", ["<b>Опрос недели</b><br>Как часто вы пользуетесь общественным транспортом в нашем городе "
                           "и довольны ли вы его работой в последние месяцы? Каждый день, и всё устраивает полностью. "
                           "Иногда, когда нет другой возможности добраться до работы или учёбы."])]
    boxes += [_box(f"banner{i}", [f'<a href="/ads/{i}">Реклама на сайте {i}</a>']) for i in range(max(0, tables - 7))]
    body = _box("text", ["14.05.2009", "<h1>В Заречье открыли новый мост через реку</h1>", "<br><br>".join(PARAGRAPHS)])
    side = _box("side", ["<b>Читайте также</b>"] + [f'<a href="/city/{i}.html">Жители района о мосте {i}</a>'
                                                     for i in range(3)])
    foot = _box("foot", ["© 2009 Городские новости. Все права защищены. При перепечатке ссылка обязательна."])
    return ('<html><head><meta charset="utf-8"><title>Городские новости :: В Заречье открыли новый мост</title>'
            '</head><body><table width="100%"><tr><td width="180" valign="top">' + "".join(boxes)
            + f'</td><td valign="top">{body}</td><td width="200" valign="top">{side}</td></tr>'
            + f'<tr><td colspan="3">{foot}</td></tr></table></body></html>')


def _text(html: str) -> str:
    page = Page("http://www.gorod-novosti.example/city/2009/05/14/most.html", html.encode(), "text/html",
                "2009-05-15T08:00:00+00:00", RawRef("x"))
    article = process_page(page, ExtractOptions())
    assert isinstance(article, Article)
    return "\n".join(article.lines)


def test_a_page_laid_out_in_tables_gets_the_full_comparison():
    html = table_layout(tables=9)
    assert html.count("<table") == 9
    fast = trafilatura.extract(html, fast=True, favor_precision=True, include_tables=True)
    assert all(c in fast for c in CHROME)                  # fast mode alone keeps every cell of the layout
    text = _text(html)
    assert all(p in text for p in PARAGRAPHS)
    assert not any(c in text for c in CHROME), text
    assert "|" not in text    # the cells of its layout are given as text, not as table rows


def test_a_layout_row_of_one_cell_is_its_text_and_an_empty_one_is_nothing():
    from pipelines.steps.extract import _layout_cell
    assert _layout_cell("| | | Мост открыт | |") == "Мост открыт"
    assert _layout_cell("| | | |") == "" and _layout_cell("|") == ""
    assert _layout_cell("| Евро \\| курс |") == "Евро | курс"
    assert _layout_cell("| Заречье | 1203 |") == "| Заречье | 1203 |"     # a data table's row
    assert _layout_cell("Счёт | 2:1") == "Счёт | 2:1"


def test_an_article_with_a_few_data_tables_is_extracted_once_in_fast_mode(monkeypatch):
    """Tables in the body (results, a budget) are no layout: one fast-mode extraction, as on any page."""
    modes = []
    real = trafilatura.extract
    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: modes.append(k["fast"]) or real(*a, **k))
    data = "".join(f"<table><tr><th>Район</th><th>Голоса</th></tr><tr><td>Заречье {i}</td><td>{1200 + i}</td></tr>"
                   "</table>" for i in range(4))
    html = ('<html><head><meta charset="utf-8"><title>Мост</title></head><body><article><h1>Мост открыт</h1>'
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2]) + data + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[2:])
            + "</article></body></html>")
    text = _text(html)
    assert all(p in text for p in PARAGRAPHS) and "| Заречье 3 | 1203 |" in text.split("\n")
    assert modes == [True]
