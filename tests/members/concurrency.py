"""Running service calls at the same moment, for the PostgreSQL race tests."""

import threading

from django.db import connection


def race(*calls):
    """Run the calls in threads released together; each result is a return value or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # handed back to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results
