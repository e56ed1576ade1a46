SET maintenance_work_mem = '{{maintenance_work_mem}}';
{{index.create}};
