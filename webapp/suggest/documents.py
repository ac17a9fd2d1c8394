"""Turn library barriers (from the database or the YAML file) into ranker documents."""

from .ranker import Document


def document_for(code, name, description, signals, play_title, play_goal, category, stage):
    return Document(
        code=code,
        name=name,
        fields={
            "name": name,
            "signals": " ".join(signals or []),
            "description": description or "",
            "play": f"{play_title or ''} {play_goal or ''}",
            "category": category or "",
            "stage": stage or "",
        },
    )


def documents_from_yaml(data: dict) -> list[Document]:
    categories = {c["code"]: c["name"] for c in data["categories"]}
    stages = {s["code"]: s["name"] for s in data["journey_stages"]}
    return [
        document_for(b["code"], b["name"], b.get("description"), b.get("signals"),
                     b["play"]["title"], b["play"]["goal"], categories.get(b["category"]),
                     stages.get(b["journey_stage"]))
        for b in data["barriers"]
    ]
