<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>@default</name>
    <message>
        <location filename="../mist_qgis/plugin.py" line="45"/>
        <source>MIST</source>
        <translation>MIST</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="47"/>
        <source>Create or upgrade store…</source>
        <translation>创建或升级数据库…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="48"/>
        <source>Store summary…</source>
        <translation>数据库概况…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="49"/>
        <source>Check dependencies</source>
        <translation>检查依赖项</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="108"/>
        <source>MIST dependencies</source>
        <translation>MIST 依赖项</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="53"/>
        <source>Store</source>
        <translation>数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/base.py" line="46"/>
        <source>No store given: choose a MIST GeoPackage store.</source>
        <translation>未指定数据库：请选择一个 MIST GeoPackage 数据库。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="23"/>
        <source>Create or upgrade store</source>
        <translation>创建或升级数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="24"/>
        <source>Creates a MIST store (a GeoPackage that every MIST step reads and writes), or upgrades an existing one to the current schema. Existing data is kept.</source>
        <translation>创建 MIST 数据库（所有 MIST 步骤读写的 GeoPackage 文件），或将已有数据库升级到当前结构。已有数据会保留。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="30"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="35"/>
        <source>Schema version</source>
        <translation>结构版本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="43"/>
        <source>Store {path} is at schema version {version}</source>
        <translation>数据库 {path} 的结构版本为 {version}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="49"/>
        <source>Store summary</source>
        <translation>数据库概况</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="50"/>
        <source>Counts posts, photos, results and runs in a MIST store.</source>
        <translation>统计 MIST 数据库中的帖子、照片、结果和运行记录。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="56"/>
        <source>Summary (JSON)</source>
        <translation>概况 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="57"/>
        <source>Posts</source>
        <translation>帖子</translation>
    </message>
</context>
</TS>
