"""`cpg cache`: where translations are cached, how much is there, and clearing it."""

from __future__ import annotations

import json

import click

from generator.cli._common import reports_errors
from generator.cql.cache import TranslationCache


@click.group("cache")
def cache_command() -> None:
    """The translation cache (ELM of every CQL library translated before)."""


@cache_command.command("info")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@reports_errors
def info(fmt: str) -> None:
    """Where the cache is, how many translations it holds and their size."""
    cache = TranslationCache()
    stats = cache.stats()
    data = {"directory": str(cache.directory), "entries": stats.entries, "bytes": stats.bytes,
            "max_bytes": cache.max_bytes}
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(f"{data['directory']}: {stats.entries} translation(s), {stats.bytes / 1e6:.1f} MB "
                   f"(limit {cache.max_bytes / 1e6:.0f} MB)")


@cache_command.command("clear")
@reports_errors
def clear() -> None:
    """Remove every cached translation (and the compiled templates kept beside them)."""
    from generator.templating import clear_cache

    cache = TranslationCache()
    click.echo(f"removed {cache.clear()} translation(s) from {cache.directory} "
               f"and {clear_cache()} compiled template(s)")
