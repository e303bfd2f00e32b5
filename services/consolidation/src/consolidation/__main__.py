from baocao_shared.service import serve
from consolidation.config import Settings
from consolidation.main import create_app

if __name__ == "__main__":
    serve(create_app, Settings())
