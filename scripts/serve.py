"""`make run`: start the web server and the background job worker together, print where to go and who to be,
and stop both on Ctrl-C."""

import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gonghui.demo.logins import DEMO_LOGINS, DEMO_MEMBER, DEMO_PASSWORD  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()
    python = sys.executable
    subprocess.run([python, "manage.py", "resume_imports"], check=False)
    web = subprocess.Popen([python, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"])
    worker = subprocess.Popen([python, "manage.py", "db_worker", "--interval", "0.5", "--no-reload"])
    base = f"http://{args.host}:{args.port}"
    time.sleep(1.5)
    print(f"""
数字工会平台已启动
  会员门户   {base}/
  管理后台   {base}/admin/
  接口文档   {base}/api/v1/docs
演示账号（密码均为 {DEMO_PASSWORD}）：""")
    for login in DEMO_LOGINS:
        print(f"  {login.username:<14} {login.role_label}（{login.sees}）")
    print(
        f"会员门户演示：手机号 {DEMO_MEMBER.phone} 登录（演示环境在页面上显示短信验证码），"
        f"核验身份填 {DEMO_MEMBER.name} / {DEMO_MEMBER.doc_number}"
    )
    print("按 Ctrl-C 停止。\n", flush=True)

    def stop(*_):
        for proc in (web, worker):
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while web.poll() is None and worker.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop()
    for proc in (web, worker):
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
