import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope = {}
    with open(osp.join(HERE, 'samkr_mmpose', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(name: str) -> list:
    """Read ``requirements/<name>.txt``, skipping comments and blanks."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def add_mim_extension() -> None:
    """Put the configs, tools and model index in ``samkr_mmpose/.mim``,
    where ``mim search``, ``mim train`` and ``mim test`` look, as MMPose's
    setup.py does: copies for a wheel or sdist (MANIFEST.in ships them),
    symbolic links for an editable install."""
    if {'develop', 'editable_wheel'} & set(sys.argv):
        mode = 'symlink'
    elif {'sdist', 'bdist_wheel', 'install', 'build'} & set(sys.argv):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(HERE, 'samkr_mmpose', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        src_path = osp.join(HERE, name)
        tar_path = osp.join(mim_path, name)
        if osp.islink(tar_path) or osp.isfile(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)
        if mode == 'symlink':
            os.symlink(osp.relpath(src_path, mim_path), tar_path)
        elif osp.isdir(src_path):
            shutil.copytree(src_path, tar_path)
        else:
            shutil.copyfile(src_path, tar_path)


add_mim_extension()
setup(
    name='samkr_mmpose',
    version=get_version(),
    description='SAMKR: bottom-up keypoint regression with a subspace '
    'attention module, as an MMPose 1.x plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(
        include=['samkr_mmpose', 'samkr_mmpose.*', 'samkr_deploy']),
    include_package_data=True,
    python_requires='>=3.10',
    install_requires=parse_requirements('runtime'),
    extras_require=dict(
        deploy=parse_requirements('deploy'),
        tests=parse_requirements('tests')),
    classifiers=[
        'License :: OSI Approved :: Apache Software License',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False)
