from partnering.cli.main import run

run()
